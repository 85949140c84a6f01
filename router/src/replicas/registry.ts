// Replicas per environment: static ones from the weights file, dynamic ones registered through the
// admin API (the local launcher) or found by DNS discovery. Pools are owned here and closed here.
import type { Logger } from 'pino';
import { ReplicaExistsError, ReplicaNotFoundError } from '../../../shared/errors.ts';
import type { WeightsSnapshot } from '../weights/snapshot.ts';
import { Replica, type PoolOptions, type ReplicaSource } from './replica.ts';

export const normalizeUrl = (url: string) => url.replace(/\/+$/, '');

export class ReplicaRegistry {
  private readonly byEnv = new Map<string, Replica[]>();
  private readonly addedListeners: ((r: Replica) => void)[] = [];

  constructor(
    private readonly poolOptions: PoolOptions,
    private readonly log: Logger,
  ) {}

  onAdded(listener: (r: Replica) => void): void {
    this.addedListeners.push(listener);
  }

  replicas(environment: string): readonly Replica[] {
    return this.byEnv.get(environment) ?? [];
  }

  /** Replicas of the environment that can take traffic now. */
  availableCount(environment: string): number {
    let n = 0;
    for (const r of this.replicas(environment)) if (r.available) n++;
    return n;
  }

  /** How many batches the environment's available replicas run side by side, together. */
  availableConcurrency(environment: string): number {
    let n = 0;
    for (const r of this.replicas(environment)) if (r.available) n += r.concurrency;
    return n;
  }

  /** Can any replica of the environment take traffic now? */
  isAvailable(environment: string): boolean {
    return this.replicas(environment).some((r) => r.available);
  }

  /** The model versions the environment's available replicas serve, in order of appearance. */
  versions(environment: string): string[] {
    return [...new Set(this.replicas(environment).flatMap((r) => (r.available && r.modelVersion !== null ? [r.modelVersion] : [])))];
  }

  /** Environments with at least one replica. */
  environmentNames(): string[] {
    return [...this.byEnv.keys()];
  }

  all(): Replica[] {
    return [...this.byEnv.values()].flat();
  }

  /**
   * Makes the static replicas (the weights file's) match the snapshot. Registered replicas stay
   * whatever the file says: an environment the controller runs may have no weight yet.
   */
  sync(snapshot: WeightsSnapshot): void {
    const named = new Set(snapshot.environments.map((e) => e.name));
    for (const [env, list] of this.byEnv) {
      if (named.has(env)) continue;
      const kept = list.filter((r) => r.source !== 'file');
      for (const r of list) if (r.source === 'file') void r.close();
      if (kept.length) this.byEnv.set(env, kept);
      else this.byEnv.delete(env);
    }
    for (const env of snapshot.environments) {
      const wanted = new Set(env.replicas.map(normalizeUrl));
      const list = this.byEnv.get(env.name) ?? [];
      const kept = list.filter((r) => r.source !== 'file' || wanted.has(r.url));
      for (const r of list) if (!kept.includes(r)) void r.close();
      for (const url of wanted) if (!kept.some((r) => r.url === url)) kept.push(this.create(env.name, url, 'file'));
      this.byEnv.set(env.name, kept);
    }
  }

  /**
   * Adds a replica to an environment, named in the weights file or not: one the file does not
   * name gets no traffic until it is given a weight.
   */
  register(environment: string, url: string): Replica {
    const list = this.byEnv.get(environment) ?? [];
    const clean = normalizeUrl(url);
    if (list.some((r) => r.url === clean)) throw new ReplicaExistsError(clean, environment);
    const replica = this.create(environment, clean, 'admin');
    this.byEnv.set(environment, [...list, replica]);
    this.log.info({ environment, url: clean }, 'replica registered');
    return replica;
  }

  /**
   * Makes the environment's discovered replicas exactly these URLs (what its DNS name resolves to
   * now): new ones are added (traffic once their checks pass), gone ones removed after their
   * in-flight requests. Replicas from the file or the admin API are left alone.
   */
  syncDiscovered(environment: string, urls: readonly string[]): { added: string[]; removed: string[] } {
    const wanted = new Set(urls.map(normalizeUrl));
    const list = this.byEnv.get(environment) ?? [];
    const removed = list.filter((r) => r.source === 'dns' && !wanted.has(r.url));
    const kept = list.filter((r) => !removed.includes(r));
    const added = [...wanted].filter((url) => !kept.some((r) => r.url === url));
    for (const url of added) kept.push(this.create(environment, url, 'dns'));
    if (kept.length) this.byEnv.set(environment, kept);
    else this.byEnv.delete(environment);
    for (const r of removed) void r.close();
    return { added, removed: removed.map((r) => r.url) };
  }

  async deregister(environment: string, url: string): Promise<void> {
    const list = this.byEnv.get(environment) ?? [];
    const clean = normalizeUrl(url);
    const replica = list.find((r) => r.url === clean);
    if (!replica) throw new ReplicaNotFoundError(clean, environment);
    const rest = list.filter((r) => r !== replica);
    if (rest.length) this.byEnv.set(environment, rest);
    else this.byEnv.delete(environment);
    this.log.info({ environment, url: clean }, 'replica deregistered');
    // In-flight requests on its pool finish before the pool closes.
    await replica.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((r) => r.close()));
    this.byEnv.clear();
  }

  private create(environment: string, url: string, source: ReplicaSource): Replica {
    const replica = new Replica(environment, url, source, this.poolOptions);
    for (const l of this.addedListeners) l(replica);
    return replica;
  }
}
