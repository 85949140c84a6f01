// The control state several routers share, in one Redis hash: the weights in force (live state set
// by admin calls, rollouts, the guard and rollbacks over the weights file, which stays the spec)
// with their generation, and the rollouts record with its version. Every change is one Lua script,
// so it is all or nothing: a compare-and-set on the generation and version the writer read, a
// fencing token checked when the controller writes, and a message published so that every router
// applies the change at once; a read every second catches a message that was missed.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StateStore } from './store.ts';

/** What the store holds of the weights: the live weights and backup marks per environment. */
export interface LiveWeights {
  weights: Record<string, number>;
  backup: Record<string, boolean>;
  /** Shadow percentages (absent in state written before they were kept). */
  shadow?: Record<string, number>;
  /** Why they were set last, and by which router (for the other routers' logs). */
  cause?: string;
  by?: string;
}

export interface ControlSnapshot {
  /** 0 until the first change. */
  generation: number;
  weights: LiveWeights | null;
  /** The hash of the weights file the live weights were last set from. */
  spec: string | null;
  /** Recent file hashes, newest first (an older one is a stale file, not an edit). */
  specs: string[];
  rolloutsVersion: number;
  rollouts: string | null;
}

export interface Commit {
  /** The generation the change was computed from (a change in between refuses it). */
  generation?: number;
  rolloutsVersion?: number;
  /** The controller's fencing token: refused once another router holds the lease. */
  fence?: string | null;
  weights?: LiveWeights;
  /** The weights file's hash, for weights set from the file: refused when they already were. */
  spec?: string;
  rollouts?: string;
}

export type CommitResult = { ok: true; generation: number; rolloutsVersion: number } | { ok: false; reason: 'conflict' | 'fenced' | 'applied' };

/** How often every router reads the generation and version, besides the published messages. */
const RECONCILE_MS = 1000;
/** Weights file hashes remembered. */
const SPECS_KEPT = 20;

// KEYS: the control hash, the fencing token in force, the list of file hashes.
// ARGV: generation and version expected ('' = any), fence ('' = none), weights JSON, file hash,
// rollouts JSON ('' = unchanged), the channel. Answers {generation, version}, or {-1} (changed
// meanwhile), {-2} (fenced off), {-3} (this file was applied already).
const COMMIT = `
local h = KEYS[1]
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then return {-2} end
if ARGV[5] ~= '' and redis.call('HGET', h, 'spec') == ARGV[5] then return {-3} end
local gen = tonumber(redis.call('HGET', h, 'generation') or '0')
local ver = tonumber(redis.call('HGET', h, 'rollouts_version') or '0')
if (ARGV[1] ~= '' and tonumber(ARGV[1]) ~= gen) or (ARGV[2] ~= '' and tonumber(ARGV[2]) ~= ver) then return {-1} end
if ARGV[4] ~= '' then
  gen = redis.call('HINCRBY', h, 'generation', 1)
  redis.call('HSET', h, 'weights', ARGV[4])
end
if ARGV[5] ~= '' then
  redis.call('HSET', h, 'spec', ARGV[5])
  redis.call('LREM', KEYS[3], 0, ARGV[5])
  redis.call('LPUSH', KEYS[3], ARGV[5])
  redis.call('LTRIM', KEYS[3], 0, ${SPECS_KEPT - 1})
end
if ARGV[6] ~= '' then
  ver = redis.call('HINCRBY', h, 'rollouts_version', 1)
  redis.call('HSET', h, 'rollouts', ARGV[6])
end
redis.call('PUBLISH', ARGV[7], gen .. ' ' .. ver)
return {gen, ver}`;

const REFUSED = { [-1]: 'conflict', [-2]: 'fenced', [-3]: 'applied' } as const;

export const specHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

export class ControlState {
  private subscriber: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: ((generation: number, rolloutsVersion: number) => void)[] = [];

  constructor(
    private readonly store: StateStore,
    /** The key of the fencing token in force (the leader lease's). */
    private readonly tokenKey: string,
    private readonly log: Logger,
  ) {}

  get up(): boolean {
    return this.store.up;
  }

  private get key(): string {
    return `${this.store.prefix}control`;
  }

  private get channel(): string {
    return `${this.store.prefix}control:changed`;
  }

  async read(): Promise<ControlSnapshot> {
    const [fields, specs] = await Promise.all([this.store.redis.hgetall(this.key), this.store.redis.lrange(`${this.key}:specs`, 0, -1)]);
    return {
      generation: Number(fields.generation ?? 0),
      weights: fields.weights ? (JSON.parse(fields.weights) as LiveWeights) : null,
      spec: fields.spec ?? null,
      specs,
      rolloutsVersion: Number(fields.rollouts_version ?? 0),
      rollouts: fields.rollouts ?? null,
    };
  }

  async commit(c: Commit): Promise<CommitResult> {
    const answer = (await this.store.redis.eval(
      COMMIT,
      3,
      this.key,
      this.tokenKey,
      `${this.key}:specs`,
      c.generation ?? '',
      c.rolloutsVersion ?? '',
      c.fence ?? '',
      c.weights ? JSON.stringify(c.weights) : '',
      c.spec ?? '',
      c.rollouts ?? '',
      this.channel,
    )) as number[];
    this.store.answered();
    if (answer.length === 1) return { ok: false, reason: REFUSED[answer[0] as -1 | -2 | -3] };
    return { ok: true, generation: answer[0], rolloutsVersion: answer[1] };
  }

  /**
   * Calls `listener` with the generation and version in the store whenever another router may have
   * changed them: on each published change, and every second (a message lost while the connection
   * was down is caught then).
   */
  onChange(listener: (generation: number, rolloutsVersion: number) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    const subscriber = this.store.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    subscriber.on('error', () => {}); // the main connection reports the store's state
    subscriber.on('message', (_channel: string, message: string) => {
      const [generation, version] = message.split(' ').map(Number);
      this.emit(generation, version);
    });
    this.subscriber = subscriber;
    // Not awaited: with the store away at start the subscription is made once it is reachable.
    subscriber.subscribe(this.channel).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'control state: not subscribed; reading it every second instead'));
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.timer.unref();
  }

  private async reconcile(): Promise<void> {
    if (!this.store.up) return;
    try {
      const [generation, version] = await this.store.redis.hmget(this.key, 'generation', 'rollouts_version');
      this.store.answered();
      this.emit(Number(generation ?? 0), Number(version ?? 0));
    } catch (err) {
      this.store.failed('control_reconcile', err, { background: true });
    }
  }

  private emit(generation: number, rolloutsVersion: number): void {
    for (const l of this.listeners) l(generation, rolloutsVersion);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
