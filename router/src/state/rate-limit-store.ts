// @fastify/rate-limit's counters in the shared state store, so that N routers let a client through
// as one router would. A request does not ask the store each time: a router takes a lease of
// counts from the client's counter (INCRBY, the window's TTL set when the counter is new) and hands
// them out itself until they are used or the window ends, so the store sees one command per lease
// instead of one per request. A lease is 1% of the limit (at least 1: small limits are counted
// exactly); a count leased but not used in its window is spent all the same, so a client may be
// refused up to one lease per router early, never let through late.
//
// While the store is down, or when a lease cannot be had, the request goes through (fails open),
// counted in router_state_store_failures_total{operation="rate_limit"}.
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { StateStore } from './store.ts';

type Result = { current: number; ttl: number };
type Callback = (err: Error | null, result?: Result) => void;
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0];

// KEYS: the counter. ARGV: the lease size, the window in ms. The counter after the lease, and its TTL.
const LEASE = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
if current == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {current, tonumber(ARGV[2])}
end
return {current, redis.call('PTTL', KEYS[1])}
`;

interface Lease {
  /** The next count to hand out, and the last one leased. */
  next: number;
  last: number;
  /** When the store's window (and with it the lease) ends. */
  endsAt: number;
}

/** The size of a lease for a limit: 1% of it, at least 1. */
export const leaseSize = (max: number) => Math.max(1, Math.floor(max / 100));

/** The store class @fastify/rate-limit's `store` option takes, bound to this router's state store. */
export function sharedRateLimitStore(state: StateStore) {
  state.redis.defineCommand('rateLimitLease', { numberOfKeys: 1, lua: LEASE });
  const redis = state.redis as unknown as { rateLimitLease(key: string, size: number, windowMs: number): Promise<[number, number]> };

  class SharedRateLimitStore implements FastifyRateLimitStore {
    private readonly leases = new Map<string, Lease>();
    /** Callers waiting for the lease being fetched, per key. */
    private readonly waiting = new Map<string, (() => void)[]>();

    constructor(
      _params: unknown,
      private readonly prefix = `${state.prefix}rate:`,
    ) {}

    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      const open = () => cb(null, { current: 0, ttl: timeWindow });
      const now = Date.now();
      const lease = this.leases.get(key);
      if (lease && now < lease.endsAt && lease.next <= lease.last) return cb(null, { current: lease.next++, ttl: lease.endsAt - now });
      if (!state.up) {
        state.skipped('rate_limit');
        return open();
      }
      // One fetch per key at a time; the others wait for it and try again.
      const queue = this.waiting.get(key);
      if (queue) return void queue.push(() => this.incr(key, cb, timeWindow, max));
      this.waiting.set(key, []);
      const size = leaseSize(max);
      const settle = () => {
        const waiters = this.waiting.get(key) ?? [];
        this.waiting.delete(key);
        for (const retry of waiters) retry();
      };
      redis.rateLimitLease(`${this.prefix}${key}`, size, timeWindow).then(
        ([current, ttl]) => {
          state.answered();
          const fresh: Lease = { next: current - size + 1, last: current, endsAt: Date.now() + Math.max(0, ttl) };
          this.leases.set(key, fresh);
          // Forget leases whose window is over (clients that went away).
          if (this.leases.size > 10_000) for (const [k, l] of this.leases) if (l.endsAt <= Date.now()) this.leases.delete(k);
          cb(null, { current: fresh.next++, ttl: fresh.endsAt - Date.now() });
          settle();
        },
        (err: unknown) => {
          state.failed('rate_limit', err);
          open();
          settle();
        },
      );
    }

    child(routeOptions: ChildOptions): FastifyRateLimitStore {
      // What the plugin passes a child: the route's merged options, its method and url in routeInfo.
      const { routeInfo } = routeOptions as ChildOptions & { routeInfo: { method: string; url: string } };
      return new SharedRateLimitStore(routeOptions, `${this.prefix}${routeInfo.method}${routeInfo.url}-`);
    }
  }
  return SharedRateLimitStore;
}
