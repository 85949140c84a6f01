// Active checks (GET /health/ready every interval, rise/fall thresholds) and passive outlier
// detection (consecutive connection errors or 5xx eject a replica; ejection time doubles with
// each repeat, and at most half of an environment's replicas are ejected at once).
import type { Logger } from 'pino';
import type { Replica } from './replica.ts';
import type { ReplicaRegistry } from './registry.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { INFO_PATH, READY_PATH, ReplicaIdentity } from '../../../shared/api/health.ts';
import { DriftProfile } from '../../../shared/drift/profile.ts';

const identity = TypeCompiler.Compile(ReplicaIdentity);
const driftReference = TypeCompiler.Compile(DriftProfile);

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  ejectAfter: number;
  ejectBaseMs: number;
  ejectMaxMs: number;
}

export interface HealthHooks {
  onTransition?: (replica: Replica, healthy: boolean) => void;
  onEjection?: (replica: Replica) => void;
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly registry: ReplicaRegistry,
    private readonly options: HealthOptions,
    private readonly log: Logger,
    private readonly hooks: HealthHooks = {},
  ) {
    // A new replica is checked at once, so it can take traffic without waiting an interval.
    registry.onAdded((r) => void this.check(r));
  }

  start(): void {
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async checkAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(this.registry.all().map((r) => this.check(r)));
    } finally {
      this.running = false;
    }
  }

  async check(replica: Replica): Promise<void> {
    let ok = false;
    try {
      const res = await replica.pool.request({ path: READY_PATH, method: 'GET', headersTimeout: this.options.timeoutMs, bodyTimeout: this.options.timeoutMs });
      await res.body.dump();
      ok = res.statusCode === 200;
      replica.lastCheckError = ok ? null : `HTTP ${res.statusCode}`;
      // A replica takes traffic only once the router knows which version answers from it.
      if (ok && replica.modelVersion === null) await this.identify(replica);
    } catch (err) {
      ok = false;
      replica.lastCheckError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    this.recordCheck(replica, ok);
  }

  /** Reads the model and version the replica serves; throws when it does not say. */
  private async identify(replica: Replica): Promise<void> {
    const res = await replica.pool.request({ path: INFO_PATH, method: 'GET', headersTimeout: this.options.timeoutMs, bodyTimeout: this.options.timeoutMs });
    const body: unknown = await res.body.json().catch(() => null);
    if (res.statusCode !== 200 || !identity.Check(body)) throw new Error(`${INFO_PATH} did not name the model and version (HTTP ${res.statusCode})`);
    replica.model = body.name;
    replica.modelVersion = body.version;
    replica.concurrency = body.concurrency ?? 1;
    const reference = (body as { metadata?: { drift_reference?: unknown } }).metadata?.drift_reference;
    replica.driftReference = driftReference.Check(reference) ? reference : null;
    this.log.info({ environment: replica.environment, url: replica.url, model: body.name, model_version: body.version, concurrency: replica.concurrency }, 'replica identified');
  }

  /** `rise` consecutive passes bring a replica up (one for a replica never up yet); `fall` take it down. */
  recordCheck(replica: Replica, ok: boolean): void {
    if (ok) {
      replica.checkFailures = 0;
      replica.checkSuccesses++;
      const rise = replica.everUp ? this.options.rise : 1;
      if (!replica.healthy && replica.checkSuccesses >= rise) this.transition(replica, true);
    } else {
      replica.checkSuccesses = 0;
      replica.checkFailures++;
      if (replica.healthy && replica.checkFailures >= this.options.fall) this.transition(replica, false);
    }
  }

  /** The data path reports each proxied attempt; failures may eject the replica. */
  recordResult(replica: Replica, failed: boolean, peers: readonly Replica[]): void {
    if (!failed) {
      replica.consecutiveErrors = 0;
      return;
    }
    replica.consecutiveErrors++;
    if (replica.consecutiveErrors < this.options.ejectAfter || replica.ejected) return;
    const ejectedPeers = peers.filter((p) => p.ejected).length;
    if (ejectedPeers + 1 > Math.ceil(peers.length / 2)) return;
    const ms = Math.min(this.options.ejectMaxMs, this.options.ejectBaseMs * 2 ** replica.ejections);
    replica.ejections++;
    replica.ejectedUntil = Date.now() + ms;
    replica.consecutiveErrors = 0;
    this.log.warn({ environment: replica.environment, url: replica.url, ms, ejections: replica.ejections }, 'replica ejected after consecutive failures');
    this.hooks.onEjection?.(replica);
  }

  private transition(replica: Replica, healthy: boolean): void {
    replica.healthy = healthy;
    if (healthy) replica.everUp = true;
    this.log[healthy ? 'info' : 'warn']({ environment: replica.environment, url: replica.url, reason: replica.lastCheckError }, healthy ? 'replica up' : 'replica down');
    const up = this.registry.availableCount(replica.environment);
    if (!healthy && up === 0) this.log.error({ environment: replica.environment }, 'environment has no healthy replica: its share goes to the other environments in proportion');
    if (healthy && up === 1) this.log.info({ environment: replica.environment }, 'environment back in rotation');
    this.hooks.onTransition?.(replica, healthy);
  }
}
