// One call to an environment: the least-outstanding replica, and for a connection that fails before
// any response, one retry on another replica (of the same environment, else of another healthy one
// by weight, as the routing policy decides) within the retry budget. The plain proxy and the
// coalescer both send through it.
import type { FastifyBaseLogger } from 'fastify';
import { errorKind, NoHealthyUpstreamError } from '../../../shared/errors.ts';
import type { HealthMonitor } from '../replicas/health.ts';
import type { Replica } from '../replicas/replica.ts';
import type { ReplicaRegistry } from '../replicas/registry.ts';
import { pickLeastOutstanding } from '../routing/replica.ts';
import type { Routing } from '../routing/routing.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import { exchange, type Exchanged } from './exchange.ts';
import { gatewayError, isRetryable } from './map-error.ts';
import type { RetryBudget } from './retry-budget.ts';

/** Predictions are small; a larger upstream answer is a fault, not something to buffer. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface OutgoingRequest {
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | string | undefined;
}

export interface Answered {
  result: Exchanged;
  /** The environment that answered: another one when a retry crossed over. */
  served: EnvironmentSnapshot;
  /** The model version of the replica that answered (during a rolling update, one of two). */
  version: string;
}

const versionOf = (replica: Replica) => replica.modelVersion ?? 'unknown';

export interface EnvironmentCallDeps {
  routing: Routing;
  replicas: ReplicaRegistry;
  health: HealthMonitor;
  budget: RetryBudget;
  onRetry: (environment: string, reason: string) => void;
}

/** Throws NoHealthyUpstreamError, or a gateway error (map-error.ts) naming the replica that failed. */
export type EnvironmentCall = (env: EnvironmentSnapshot, request: OutgoingRequest, log: FastifyBaseLogger) => Promise<Answered>;

export function createEnvironmentCall(deps: EnvironmentCallDeps): EnvironmentCall {
  const { routing, replicas, health, budget } = deps;

  function retryTarget(env: EnvironmentSnapshot, failed: Replica): { env: EnvironmentSnapshot; replica: Replica } | undefined {
    const sibling = pickLeastOutstanding(replicas.replicas(env.name), Math.random, failed);
    if (sibling) return { env, replica: sibling };
    const next = routing.fallback(env.name);
    const replica = next && pickLeastOutstanding(replicas.replicas(next.name));
    return next && replica ? { env: next, replica } : undefined;
  }

  async function attempt(replica: Replica, env: EnvironmentSnapshot, request: OutgoingRequest): Promise<Exchanged> {
    replica.inFlight++;
    try {
      // The pool's connect, headers and body timeouts bound the whole exchange; no per-request
      // timer is needed on this hot path.
      const res = await exchange(replica.pool, { path: request.path, method: 'POST', headers: request.headers, body: request.body }, MAX_RESPONSE_BYTES);
      health.recordResult(replica, res.statusCode >= 500, replicas.replicas(env.name));
      return res;
    } catch (err) {
      health.recordResult(replica, true, replicas.replicas(env.name));
      throw err;
    } finally {
      replica.inFlight--;
    }
  }

  return async function call(env, request, log) {
    const replica = pickLeastOutstanding(replicas.replicas(env.name));
    if (!replica) throw new NoHealthyUpstreamError();
    try {
      return { result: await attempt(replica, env, request), served: env, version: versionOf(replica) };
    } catch (err) {
      const failure = gatewayError(err, env.name, replica.url, versionOf(replica));
      const other = isRetryable(err) ? retryTarget(env, replica) : undefined;
      if (!other || !budget.tryRetry()) throw failure;
      deps.onRetry(env.name, errorKind(failure.code));
      log.warn({ environment: env.name, from: replica.url, to: other.replica.url, code: (err as NodeJS.ErrnoException).code }, 'retrying on another replica');
      try {
        return { result: await attempt(other.replica, other.env, request), served: other.env, version: versionOf(other.replica) };
      } catch (retryErr) {
        throw gatewayError(retryErr, other.env.name, other.replica.url, versionOf(other.replica));
      }
    }
  };
}
