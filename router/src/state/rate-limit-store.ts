// @fastify/rate-limit's counters in the shared store, so that N routers let a client through as
// one router would. The counting is the plugin's own Redis script (INCR with a window TTL); what
// this adds is failing open: while the store is down, or when a count fails, the request goes
// through, and the skip is counted (router_state_store_failures_total{operation="rate_limit"}).
import { createRequire } from 'node:module';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { StateStore } from './store.ts';

type Result = { current: number; ttl: number };
type Callback = (err: Error | null, result?: Result) => void;
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0];
interface RedisStoreInstance {
  key: string;
  incr(key: string, cb: (err: Error | null, result: Result | null) => void, timeWindow: number, max: number): void;
}
// The plugin's own Redis store (its counting script), which its package ships without types.
const RedisStoreClass = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: unknown, key: string) => RedisStoreInstance;

/** The store class @fastify/rate-limit's `store` option takes, bound to this router's state store. */
export function sharedRateLimitStore(state: StateStore) {
  class SharedRateLimitStore implements FastifyRateLimitStore {
    private readonly inner: RedisStoreInstance;

    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }, key = `${state.prefix}rate:`) {
      this.inner = new RedisStoreClass(params.continueExceeding ?? false, params.exponentialBackoff ?? false, state.redis, key);
    }

    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      const open = () => cb(null, { current: 0, ttl: timeWindow });
      if (!state.up) {
        state.skipped('rate_limit');
        return open();
      }
      this.inner.incr(key, (err, result) => {
        if (err || !result) {
          state.failed('rate_limit', err);
          return open();
        }
        state.answered();
        cb(null, result);
      }, timeWindow, max);
    }

    child(routeOptions: ChildOptions): FastifyRateLimitStore {
      // What the plugin passes a child: the route's merged options, its method and url in routeInfo.
      const merged = routeOptions as ChildOptions & { continueExceeding?: boolean; exponentialBackoff?: boolean; routeInfo: { method: string; url: string } };
      return new SharedRateLimitStore(merged, `${this.inner.key}${merged.routeInfo.method}${merged.routeInfo.url}-`);
    }
  }
  return SharedRateLimitStore;
}
