// DNS discovery: an environment whose weights entry names a DNS name (on Kubernetes, a headless
// Service) gets one replica per A/AAAA record, resolved again every interval. A name that does
// not exist or has no records means no replicas; a failed lookup (timeout, SERVFAIL, refused)
// keeps the replicas last found, so a DNS hiccup never empties an environment.
import { Resolver } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { WeightsSnapshot } from '../weights/snapshot.ts';
import type { ReplicaRegistry } from './registry.ts';

export type DiscoveryResult = 'changed' | 'unchanged' | 'empty' | 'failed';

/** Answers that say the name has no addresses, as opposed to a lookup that failed. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

interface Watch {
  key: string;
  timer: NodeJS.Timeout;
  running: boolean;
}

export interface DiscoveryOptions {
  /** DNS servers (ip or ip:port) to ask instead of the system's (resolv.conf). */
  servers: string[];
  /** Per lookup. */
  timeoutMs: number;
}

export class DnsDiscovery {
  private readonly resolver: Resolver;
  private readonly watches = new Map<string, Watch>();
  private stopped = false;

  constructor(
    private readonly registry: ReplicaRegistry,
    options: DiscoveryOptions,
    private readonly log: Logger,
    private readonly onResolved: (environment: string, result: DiscoveryResult, replicas: number) => void = () => {},
  ) {
    this.resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
    if (options.servers.length) this.resolver.setServers(options.servers);
  }

  /** Starts, restarts or stops each environment's lookups to match the weights. */
  sync(snapshot: WeightsSnapshot): void {
    if (this.stopped) return;
    const wanted = new Map(snapshot.environments.flatMap((e) => (e.discovery ? [[e.name, e.discovery] as const] : [])));
    for (const [environment, watch] of this.watches) {
      const spec = wanted.get(environment);
      if (spec && watch.key === JSON.stringify(spec)) continue;
      clearInterval(watch.timer);
      this.watches.delete(environment);
      if (!spec) this.apply(environment, []);
    }
    for (const [environment, spec] of wanted) {
      if (this.watches.has(environment)) continue;
      const watch: Watch = { key: JSON.stringify(spec), running: false, timer: setInterval(() => void this.resolve(environment, spec, watch), spec.intervalMs) };
      watch.timer.unref();
      this.watches.set(environment, watch);
      void this.resolve(environment, spec, watch);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const watch of this.watches.values()) clearInterval(watch.timer);
    this.watches.clear();
  }

  private async resolve(environment: string, spec: { dns: string; port: number }, watch: Watch): Promise<void> {
    if (watch.running) return; // a slow lookup is not stacked on
    watch.running = true;
    try {
      const addresses = await this.lookup(spec.dns);
      if (this.watches.get(environment) !== watch) return; // the spec changed while we asked
      if (addresses === null) {
        this.onResolved(environment, 'failed', this.registry.replicas(environment).filter((r) => r.source === 'dns').length);
        return;
      }
      const urls = addresses.sort().map((ip) => `http://${isIPv6(ip) ? `[${ip}]` : ip}:${spec.port}`);
      const { added, removed } = this.apply(environment, urls);
      this.onResolved(environment, urls.length === 0 ? 'empty' : added.length || removed.length ? 'changed' : 'unchanged', urls.length);
    } finally {
      watch.running = false;
    }
  }

  /** Every address of the name; [] when it has none; null when the lookup failed. */
  private async lookup(name: string): Promise<string[] | null> {
    const results = await Promise.allSettled([this.resolver.resolve4(name), this.resolver.resolve6(name)]);
    const addresses = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as NodeJS.ErrnoException] : []));
    const failed = failures.filter((err) => !NO_RECORDS.has(String(err.code)));
    if (addresses.length === 0 && failed.length) {
      this.log.warn({ name, code: failed[0].code, err: failed[0].message }, 'DNS lookup failed; keeping the replicas last found');
      return null;
    }
    return addresses;
  }

  private apply(environment: string, urls: string[]) {
    const change = this.registry.syncDiscovered(environment, urls);
    if (change.added.length || change.removed.length) this.log.info({ environment, added: change.added, removed: change.removed, replicas: urls.length }, 'replicas discovered by DNS changed');
    return change;
  }
}
