// One call to an environment: the least-outstanding replica, and for a connection that fails before
// any response, one retry on another replica (of the same environment, else of another healthy one
// by weight) within the retry budget. Both the plain proxy and the coalescer send through it.
import type { FastifyBaseLogger } from 'fastify';
import type { RouterMetrics } from '../metrics.ts';
import { eligible, pickWeighted } from '../select/environment.ts';
import { pickLeastOutstanding } from '../select/replica.ts';
import type { HealthMonitor } from '../upstreams/health.ts';
import type { Replica } from '../upstreams/replica.ts';
import type { UpstreamRegistry } from '../upstreams/registry.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { WeightsStore } from '../weights/store.ts';
import { exchange, type Exchanged } from './exchange.ts';
import { mapUpstreamError, type UpstreamFailure } from './map-error.ts';
import type { RetryBudget } from './retry-budget.ts';

/** Predictions are small; a larger upstream answer is a fault, not something to buffer. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface UpstreamRequest {
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | string | undefined;
}

export interface Answered {
  result: Exchanged;
  /** The environment that answered: another one when a retry crossed over. */
  served: EnvironmentSnapshot;
}

/** No replica of the environment can take the request. */
export class NoUpstream extends Error {
  override name = 'NoUpstream';
}

/** The chosen replica (and the retry, if any) failed before answering. */
export class UpstreamCallError extends Error {
  override name = 'UpstreamCallError';
  constructor(
    readonly failure: UpstreamFailure,
    /** The replica that failed last (or the environment, when the answer was unusable). */
    readonly upstream: string,
    override readonly cause: unknown,
  ) {
    super(failure.error);
  }
}

export interface UpstreamCallDeps {
  store: WeightsStore;
  registry: UpstreamRegistry;
  health: HealthMonitor;
  budget: RetryBudget;
  metrics: RouterMetrics;
}

export type UpstreamCall = (env: EnvironmentSnapshot, request: UpstreamRequest, log: FastifyBaseLogger) => Promise<Answered>;

export function createUpstreamCall(deps: UpstreamCallDeps): UpstreamCall {
  const { store, registry, health, budget, metrics } = deps;
  /** Another replica of the same environment, else one of another healthy environment by weight. */
  function retryTarget(env: EnvironmentSnapshot, failed: Replica): { env: EnvironmentSnapshot; replica: Replica } | undefined {
    const sibling = pickLeastOutstanding(registry.replicas(env.name), Math.random, failed);
    if (sibling) return { env, replica: sibling };
    const snapshot = store.snapshot;
    const others = eligible(registry.choices(snapshot.environments.filter((e) => e.name !== env.name))).pool;
    const next = pickWeighted(others, Math.random());
    const nextEnv = next && snapshot.environments.find((e) => e.name === next.name);
    const replica = nextEnv && pickLeastOutstanding(registry.replicas(nextEnv.name));
    return nextEnv && replica ? { env: nextEnv, replica } : undefined;
  }

  async function attempt(replica: Replica, env: EnvironmentSnapshot, request: UpstreamRequest): Promise<Exchanged> {
    replica.inFlight++;
    try {
      // The pool's connect, headers and body timeouts bound the whole exchange; no per-request
      // timer is needed on this hot path.
      const res = await exchange(replica.pool, { path: request.path, method: 'POST', headers: request.headers, body: request.body }, MAX_RESPONSE_BYTES);
      health.recordResult(replica, res.statusCode >= 500, registry.replicas(env.name));
      return res;
    } catch (err) {
      health.recordResult(replica, true, registry.replicas(env.name));
      throw err;
    } finally {
      replica.inFlight--;
    }
  }

  return async function call(env, request, log) {
    const replica = pickLeastOutstanding(registry.replicas(env.name));
    if (!replica) throw new NoUpstream(`no available replica in ${env.name}`);
    try {
      return { result: await attempt(replica, env, request), served: env };
    } catch (err) {
      const failure = mapUpstreamError(err);
      const other = failure.retryable ? retryTarget(env, replica) : undefined;
      if (!other || !budget.tryRetry()) throw new UpstreamCallError(failure, replica.url, err);
      metrics.retries.inc({ backend: env.name, reason: failure.error });
      log.warn({ environment: env.name, from: replica.url, to: other.replica.url, code: (err as NodeJS.ErrnoException).code }, 'retrying on another replica');
      try {
        return { result: await attempt(other.replica, other.env, request), served: other.env };
      } catch (retryErr) {
        throw new UpstreamCallError(mapUpstreamError(retryErr), other.replica.url, retryErr);
      }
    }
  };
}
