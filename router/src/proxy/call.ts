// One call to an environment: the least-outstanding replica (or a fast 503 when every replica has
// replica.max_in_flight requests); a hedge on another replica when it has not answered within a
// few times the environment's usual P99 (hedge.ts), the first answer winning; and for a connection
// that fails before any response, up to two retries on replicas not tried yet (of the same
// environment, else of another healthy one by weight, as the routing policy decides). Hedges and
// retries share the retry budget. The data path's send stage (core.ts): the plain proxy, the
// coalescer's batches, shadow mirrors and metadata questions all go through it.
import type { FastifyBaseLogger } from 'fastify';
import { errorKind, NoHealthyUpstreamError, OverloadedError } from '../../../shared/errors.ts';
import type { HealthMonitor } from '../replicas/health.ts';
import type { Replica } from '../replicas/replica.ts';
import type { ReplicaRegistry } from '../replicas/registry.ts';
import { firstOfTies, pickLeastOutstanding } from '../routing/replica.ts';
import type { Routing } from '../routing/routing.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import { exchange, type Exchanged } from './exchange.ts';
import type { HedgePolicy } from './hedge.ts';
import { gatewayError, isRetryable, type GatewayError } from './map-error.ts';
import type { RetryBudget } from './retry-budget.ts';

/** Retries after the first try: a sibling that failed the same way (a whole environment going down) still leaves another environment to try. */
const MAX_RETRIES = 2;

/** Predictions are small; a larger upstream answer is a fault, not something to buffer. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface OutgoingRequest {
  /** POST (the default) for predictions, GET for metadata and readiness. */
  method?: 'GET' | 'POST';
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
  hedge: HedgePolicy;
  /** Requests one replica may have in flight; past it on every replica, requests are shed (0: no limit). */
  replicaMaxInFlight: number;
  onShed: (environment: string) => void;
  onRetry: (environment: string, reason: string) => void;
  onHedge: (environment: string) => void;
}

/** A try given up on purpose; `slow` when it was the one that had not answered in time. */
class Abandoned extends Error {
  constructor(readonly slow: boolean) {
    super(slow ? 'given up: a hedge on another replica answered first' : 'given up: the first try answered first');
  }
}

interface Try {
  done: Promise<Exchanged>;
  abandon: (slow: boolean) => void;
  replica: Replica;
  env: EnvironmentSnapshot;
}

export interface CallOptions {
  /** Only replicas serving this model version (during a rolling update an environment serves two). */
  modelVersion?: string;
  /** Ties between equally busy replicas go to the one listed first, not to one at random (firstOfTies). */
  packTies?: boolean;
}

/** Throws NoHealthyUpstreamError, or a gateway error (map-error.ts) naming the replica that failed. */
export type EnvironmentCall = (env: EnvironmentSnapshot, request: OutgoingRequest, log: FastifyBaseLogger, options?: CallOptions) => Promise<Answered>;

export function createEnvironmentCall(deps: EnvironmentCallDeps): EnvironmentCall {
  const { routing, replicas, health, budget, hedge } = deps;
  const hasRoom = (r: Replica) => deps.replicaMaxInFlight === 0 || r.inFlight < deps.replicaMaxInFlight;
  /** The environment's replicas that may take this request. */
  const candidates = (environment: string, options?: CallOptions) => {
    const all = replicas.replicas(environment);
    return options?.modelVersion === undefined ? all : all.filter((r) => r.modelVersion === options.modelVersion);
  };

  const tieBreak = (options?: CallOptions) => (options?.packTies ? firstOfTies : Math.random);

  function siblingTarget(env: EnvironmentSnapshot, tried: ReadonlySet<Replica>, options?: CallOptions): { env: EnvironmentSnapshot; replica: Replica } | undefined {
    const sibling = pickLeastOutstanding(candidates(env.name, options), tieBreak(options), tried);
    return sibling && hasRoom(sibling) ? { env, replica: sibling } : undefined;
  }

  function retryTarget(env: EnvironmentSnapshot, tried: ReadonlySet<Replica>, options?: CallOptions): { env: EnvironmentSnapshot; replica: Replica } | undefined {
    const sibling = siblingTarget(env, tried, options);
    if (sibling) return sibling;
    // Another environment, as the routing policy would pick it for this one's traffic; a request
    // for one model version finds replicas only where that version is served.
    const next = routing.fallback(env.name);
    const replica = next && pickLeastOutstanding(candidates(next.name, options), tieBreak(options), tried);
    return next && replica && hasRoom(replica) ? { env: next, replica } : undefined;
  }

  /** One try on one replica; abandon() gives it up (the hedge answered first, or it did). */
  function attempt(replica: Replica, env: EnvironmentSnapshot, request: OutgoingRequest): Try {
    replica.inFlight++;
    // The pool's connect, headers and body timeouts bound the whole exchange; hedging (below)
    // bounds what a slow replica costs the client.
    const pending = exchange(replica.pool, { path: request.path, method: request.method ?? 'POST', headers: request.headers, body: request.body }, MAX_RESPONSE_BYTES);
    const done = pending.then(
      (res) => {
        health.recordResult(replica, res.statusCode >= 500, replicas.replicas(env.name));
        return res;
      },
      (err: unknown) => {
        // A try given up because its hedge won was slow: that counts against the replica (a hung
        // one is ejected after a few); one given up because it lost to the original does not.
        if (!(err instanceof Abandoned) || err.slow) health.recordResult(replica, true, replicas.replicas(env.name));
        throw err;
      },
    );
    void done.finally(() => replica.inFlight--).catch(() => {});
    return { done, abandon: (slow) => pending.abort(new Abandoned(slow)), replica, env };
  }

  /** The first try's answer, or, when it is slower than the hedge delay, the first of two. */
  async function hedged(first: Try, env: EnvironmentSnapshot, request: OutgoingRequest, log: FastifyBaseLogger, options?: CallOptions): Promise<Answered> {
    const delay = hedge.delayMs(env.name);
    if (!(await unansweredAfter(first, delay))) return settle(first);
    const tried = new Set([first.replica]);
    // A hedge stays in its environment: one answered by another would leave its experiment arm.
    // With no sibling to ask, it crosses only once the replica looks hung (the longest delay).
    let other = siblingTarget(env, tried, options);
    if (!other) {
      if (delay < hedge.maxMs && !(await unansweredAfter(first, hedge.maxMs - delay))) return settle(first);
      other = retryTarget(env, tried, options);
    }
    if (!other || !budget.tryRetry()) return settle(first);
    deps.onHedge(env.name);
    log.info({ environment: env.name, slow: first.replica.url, hedge: other.replica.url, after_ms: Math.round(delay) }, 'no answer yet: hedging on another replica');
    const second = attempt(other.replica, other.env, request);
    // The first to answer wins and the other is given up; if one fails, the other's answer counts.
    const winner = await new Promise<Try>((resolve, reject) => {
      let failed = 0;
      for (const t of [first, second]) {
        t.done.then(
          () => resolve(t),
          (err) => {
            if (++failed === 2) reject(err);
          },
        );
      }
    }).catch(() => second);
    const loser = winner === first ? second : first;
    loser.abandon(loser === first);
    return settle(winner);
  }

  /** Is the try still unanswered after `ms`? */
  async function unansweredAfter(t: Try, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([t.done.then(() => false, () => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, true)))]);
    clearTimeout(timer);
    return late;
  }

  async function settle(t: Try): Promise<Answered> {
    try {
      return { result: await t.done, served: t.env, version: versionOf(t.replica) };
    } catch (err) {
      throw gatewayError(err, t.env.name, t.replica.url, versionOf(t.replica));
    }
  }

  return async function call(env, request, log, options) {
    const replica = pickLeastOutstanding(candidates(env.name, options), tieBreak(options));
    if (!replica) throw new NoHealthyUpstreamError();
    // Every replica is as busy as allowed: shed now with a 503 and Retry-After rather than queue
    // without bound (the accepted requests keep their latency; the client comes back later).
    if (!hasRoom(replica)) {
      deps.onShed(env.name);
      throw new OverloadedError();
    }
    const started = performance.now();
    const first = attempt(replica, env, request);
    try {
      const answered = hedge.enabled ? await hedged(first, env, request, log, options) : await settle(first);
      hedge.record(answered.served.name, performance.now() - started);
      return answered;
    } catch (firstFailure) {
      // A connection that failed before any answer: another replica (a sibling, else another
      // environment by weight), never one already tried, up to MAX_RETRIES, within the budget.
      let failure = firstFailure as GatewayError;
      const tried = new Set([replica]);
      for (let retry = 0; retry < MAX_RETRIES; retry++) {
        const err = failure.cause ?? failure;
        const other = isRetryable(err) ? retryTarget(env, tried, options) : undefined;
        if (!other || !budget.tryRetry()) break;
        deps.onRetry(env.name, errorKind(failure.code));
        log.warn({ environment: env.name, from: failure.replica, to: other.replica.url, code: (err as NodeJS.ErrnoException).code }, 'retrying on another replica');
        tried.add(other.replica);
        try {
          return await settle(attempt(other.replica, other.env, request));
        } catch (next) {
          failure = next as GatewayError;
        }
      }
      throw failure;
    }
  };
}
