// The shared state store: several routers in front of the same replicas share what one router
// would keep in its memory (rate-limit counters, the predictions feedback is joined against, the
// feedback counts) through one Redis, named by ROUTER_STATE_STORE_URL. Without it a router keeps
// all of that to itself (embedded: one router, today's files and memory).
//
// The data path never waits on the store: a command fails at once while the connection is down
// (no offline queue), each is bounded by a timeout, and after a connection error (or timeouts in
// a row) the store is skipped for a moment (callers skip it, counted). Only what cannot be right
// without the store (feedback) refuses while it is down, with a 503 and Retry-After.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';

/** A command that has not answered by then fails (and marks the store down). */
const COMMAND_TIMEOUT_MS = 500;
/** After failed commands, the store is skipped this long unless the connection reports ready. */
const DOWN_FOR_MS = 1000;
/**
 * Timeouts in a row before the store is skipped: one late answer is as often this process's own
 * event loop held up (a timer fires before the reply waiting in the socket is read) as a slow
 * store, and should not turn the rate limit off for a second; a hung store trips it at once after.
 */
const TIMEOUTS_TO_TRIP = 3;

export interface StateStoreMetrics {
  up: Gauge;
  failures: Counter;
}

export class StateStore {
  readonly redis: Redis;
  private downUntil = 0;
  private timeouts = 0;
  private ready = false;
  private lastLogged = 0;

  private constructor(
    url: string,
    /** Every key starts with it: several deployments may share one Redis. */
    readonly prefix: string,
    private readonly log: Logger,
    private readonly metrics: StateStoreMetrics,
  ) {
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      // The data path's writes are batched already (one command per batch): pipelining them again
      // per tick only adds work.
      enableAutoPipelining: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      lazyConnect: true,
      // Reconnect for good, backing off to 1 s: the routers serve on while the store is away.
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    this.redis.on('ready', () => {
      this.ready = true;
      this.downUntil = 0;
      this.metrics.up.set(1);
      this.log.info('state store connected');
    });
    this.redis.on('close', () => {
      if (this.ready) this.log.warn('state store connection lost: serving on, feedback refused until it is back');
      this.ready = false;
      this.metrics.up.set(0);
    });
    // ioredis reports every failed reconnect here; the close above says it once.
    this.redis.on('error', () => {});
  }

  /** Connects (waiting for the first connection at most `waitMs`: a router starts without its store). */
  static async open(url: string, prefix: string, log: Logger, metrics: StateStoreMetrics, waitMs = 3000): Promise<StateStore> {
    const store = new StateStore(url, prefix, log, metrics);
    metrics.up.set(0);
    const connected = store.redis.connect().then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs).unref());
    if (!(await Promise.race([connected, timedOut]))) log.warn({ url: redacted(url) }, 'state store not reachable at start: serving on, retrying');
    return store;
  }

  /** Can a command be sent now? (Callers that can do without the store skip it when not.) */
  get up(): boolean {
    return this.ready && Date.now() >= this.downUntil;
  }

  /**
   * A command failed: count it, say so (at most once a second), and skip the store for a moment
   * (after a connection error, or timeouts in a row; a background read never trips it).
   */
  failed(operation: string, err: unknown, options: { background?: boolean } = {}): void {
    this.metrics.failures.inc({ operation });
    const timedOut = (err as Error | undefined)?.message === 'Command timed out';
    if (!options.background && (!timedOut || ++this.timeouts >= TIMEOUTS_TO_TRIP)) {
      this.downUntil = Date.now() + DOWN_FOR_MS;
      this.timeouts = 0;
    }
    const now = Date.now();
    if (now - this.lastLogged >= 1000) {
      this.lastLogged = now;
      this.log.warn({ operation, err: (err as Error).message }, 'state store command failed');
    }
  }

  /** A command answered: timeouts in a row start again. */
  answered(): void {
    this.timeouts = 0;
  }

  /** Counts an operation skipped because the store is down. */
  skipped(operation: string): void {
    this.metrics.failures.inc({ operation });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The URL without its password, for logs. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparsable)';
  }
}
