// One controller at a time: the routers sharing a store elect one to run the rollout engine and the
// guard, through a lease in Redis (a key with an expiry that its holder renews). Each time the
// lease is taken anew, a fencing token is drawn from a counter; every write the controller makes
// carries it, and the store refuses a write whose token is no longer the current one, so a leader
// that was deposed while it was paused (and does not know it yet) changes nothing.
//
// Without a store a router is its own controller (SOLE_CONTROLLER).
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { StateStore } from './store.ts';

/** How long a lease lasts without renewal: the time another router waits after a leader dies. */
export const LEASE_MS = 5000;
/** How often the leader renews, and the others try to take the lease. */
export const ATTEMPT_MS = 1000;

export const ControllerView = Type.Object(
  {
    router_id: Type.String({ description: "this router's name in the election (state_store.router_id)" }),
    leader: Type.Union([Type.String(), Type.Null()], { description: 'the router holding the lease: it runs rollouts and the guard (null: none now, or the store cannot be reached)' }),
    leading: Type.Boolean(),
    fencing_token: Type.Union([Type.Integer(), Type.Null()], { description: "the fencing token of this router's lease while it leads: the store refuses a controller write with an older one" }),
    lease_seconds: Type.Union([Type.Number(), Type.Null()], { description: 'how long a lease lasts unrenewed (null without a store)' }),
    paused_reason: Type.Union([Type.String(), Type.Null()], { description: 'why rollouts and the guard are held, if they are' }),
    routers: Type.Array(Type.String(), { description: 'the routers sharing the store that took part in the election in the last lease (this one alone without a store)' }),
  },
  { description: 'the controller: which router runs rollouts and the guard (without a state store, each router is its own)' },
);
export type ControllerView = Static<typeof ControllerView>;

export interface Leadership {
  readonly leading: boolean;
  /** The fencing token writes carry while leading (null without a store: nothing to fence). */
  readonly token: string | null;
  onChange(listener: (leading: boolean) => void): void;
  view(): ControllerView;
}

/** A router without a store: the only controller there is. */
export const soleController = (routerId: string): Leadership => ({
  leading: true,
  token: null,
  onChange: () => {},
  view: () => ({ router_id: routerId, leader: routerId, leading: true, fencing_token: null, lease_seconds: null, paused_reason: null, routers: [routerId] }),
});

// KEYS: the lease, the token in force, the token counter. ARGV: this router's id, the lease in ms.
// Renews a lease this router holds, or takes a free one with a new token; answers {1, token} when
// this router leads, {0, holder} when another does.
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, redis.call('GET', KEYS[2])}
end
if holder then return {0, holder} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local token = tostring(redis.call('INCR', KEYS[3]))
redis.call('SET', KEYS[2], token)
return {1, token}`;

// KEYS: the lease. ARGV: this router's id. Gives the lease up, if this router holds it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class LeaderLease implements Leadership {
  private holding: string | null = null;
  /** Until when this router may act as leader: the lease counted from when its renewal was sent. */
  private validUntil = 0;
  private holder: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private wasLeading = false;
  private reason: string | null = 'no election held yet';
  private members: string[] = [];

  constructor(
    private readonly store: StateStore,
    readonly routerId: string,
    private readonly log: Logger,
  ) {}

  /**
   * Changes only at an election round, so that every change reaches the listeners (a lease that
   * lapsed between rounds is seen at the next one, a second later at most; the fencing token keeps
   * a write made meanwhile from taking effect if another router took the lease).
   */
  get leading(): boolean {
    return this.wasLeading;
  }

  get token(): string | null {
    return this.leading ? this.holding : null;
  }

  /** The key every fenced write compares its token with. */
  get tokenKey(): string {
    return `${this.store.prefix}leader:token`;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  view(): ControllerView {
    return { router_id: this.routerId, leader: this.holder, leading: this.leading, fencing_token: this.token === null ? null : Number(this.token), lease_seconds: LEASE_MS / 1000, paused_reason: this.reason, routers: this.members };
  }

  /** Takes part in the election until stop(). The first attempt is awaited. */
  async start(): Promise<void> {
    await this.attempt();
    this.timer = setInterval(() => void this.attempt(), ATTEMPT_MS);
    this.timer.unref();
  }

  /** Stops, handing the lease over at once when this router holds it. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const held = this.wasLeading;
    this.holding = null;
    this.notify();
    if (held && this.store.up) await this.store.redis.eval(RELEASE, 1, `${this.store.prefix}leader`, this.routerId).catch(() => {});
  }

  private async attempt(): Promise<void> {
    const sentAt = Date.now();
    if (!this.store.up) {
      this.holder = null;
      this.reason = 'the state store cannot be reached: rollouts and the guard wait for it';
      this.notify();
      return;
    }
    try {
      const [won, value] = (await this.store.redis.eval(ACQUIRE, 3, `${this.store.prefix}leader`, this.tokenKey, `${this.store.prefix}leader:epoch`, this.routerId, String(LEASE_MS))) as [number, string];
      this.store.answered();
      if (won === 1) {
        if (this.holding !== value) this.log.info({ router_id: this.routerId, fencing_token: Number(value) }, 'this router leads: it runs rollouts and the guard');
        this.holding = value;
        this.holder = this.routerId;
        // Counted from when the renewal was sent, minus a margin for clock drift between hosts.
        this.validUntil = sentAt + LEASE_MS - ATTEMPT_MS / 2;
      } else {
        if (this.holding !== null) this.log.warn({ router_id: this.routerId, leader: value }, 'this router no longer leads');
        this.holding = null;
        this.holder = value;
      }
      this.reason = null;
      this.members = await this.roll(sentAt).catch(() => this.members);
    } catch (err) {
      this.store.failed('leader_lease', err);
      this.holder = null;
      this.reason = `the lease could not be renewed (${(err as Error).message}): rollouts and the guard wait for the store`;
    }
    this.notify();
  }

  /** Says this router takes part, and reads who else did within a lease (for GET /admin/config and the dashboard). */
  private async roll(now: number): Promise<string[]> {
    const key = `${this.store.prefix}routers`;
    const results = await this.store.redis.multi().zadd(key, now, this.routerId).zremrangebyscore(key, '-inf', now - LEASE_MS).zrange(key, 0, -1).exec();
    return ((results?.[2]?.[1] as string[] | undefined) ?? [this.routerId]).sort();
  }

  /** Tells listeners when leading starts or stops (a lease that ran out without renewal included). */
  private notify(): void {
    const leading = this.holding !== null && Date.now() < this.validUntil;
    if (leading === this.wasLeading) return;
    this.wasLeading = leading;
    for (const l of this.listeners) l(leading);
  }
}
