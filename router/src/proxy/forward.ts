// The data path: weights snapshot → environment → replica → undici → response. A request whose
// connection fails before any response is retried once on another replica, within the budget.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouterMetrics } from '../metrics.ts';
import { eligible, pickSticky, pickWeighted, type EnvironmentChoice } from '../select/environment.ts';
import { pickLeastOutstanding } from '../select/replica.ts';
import type { SlidingWindow } from '../stats/window.ts';
import type { HealthMonitor } from '../upstreams/health.ts';
import type { Replica } from '../upstreams/replica.ts';
import type { UpstreamRegistry } from '../upstreams/registry.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { WeightsStore } from '../weights/store.ts';
import { endToEnd, forwardedFor } from './headers.ts';
import { exchange } from './exchange.ts';
import { mapUpstreamError } from './map-error.ts';
import type { RetryBudget } from './retry-budget.ts';

export const OVERRIDE_HEADER = 'x-route-to';
/** Predictions are small; a larger upstream answer is a fault, not something to buffer. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface ForwardDeps {
  store: WeightsStore;
  registry: UpstreamRegistry;
  health: HealthMonitor;
  budget: RetryBudget;
  metrics: RouterMetrics;
  stats: (environment: string) => SlidingWindow;
  /** May this request force an environment with X-Route-To? */
  mayOverride: (request: FastifyRequest) => boolean;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function userKey(request: FastifyRequest, assignment: { header?: string; cookie?: string }): string | undefined {
  const fromHeader = assignment.header ? request.headers[assignment.header] : undefined;
  if (typeof fromHeader === 'string' && fromHeader !== '') return fromHeader;
  return assignment.cookie ? cookieValue(request.headers.cookie, assignment.cookie) : undefined;
}

const extractConfidence = (body: Buffer): number | null => {
  const i = body.indexOf('"confidence":');
  if (i < 0) return null;
  const value = parseFloat(body.toString('latin1', i + 13, i + 40));
  return Number.isFinite(value) ? value : null;
};

export function createForwarder(deps: ForwardDeps) {
  const { store, registry, health, budget, metrics } = deps;
  // Label sets are few (environment × status); resolving each once keeps label hashing off the
  // hot path.
  const requestCounters = new Map<string, { inc: () => void }>();
  const latencyHistograms = new Map<string, { observe: (v: number) => void }>();
  const countRequest = (env: EnvironmentSnapshot, status: number) => {
    const key = `${env.name}\u0000${env.modelVersion}\u0000${status}`;
    let child = requestCounters.get(key);
    if (!child) requestCounters.set(key, (child = metrics.requests.labels({ backend: env.name, model_version: env.modelVersion, status: String(status) })));
    child.inc();
  };
  const observeLatency = (env: EnvironmentSnapshot, seconds: number) => {
    const key = `${env.name}\u0000${env.modelVersion}`;
    let child = latencyHistograms.get(key);
    if (!child) latencyHistograms.set(key, (child = metrics.latency.labels({ backend: env.name, model_version: env.modelVersion })));
    child.observe(seconds);
  };

  function chooseEnvironment(request: FastifyRequest): EnvironmentSnapshot | 'forbidden' | 'unknown' | undefined {
    const snapshot = store.snapshot;
    const forced = request.headers[OVERRIDE_HEADER];
    if (typeof forced === 'string') {
      if (!deps.mayOverride(request)) return 'forbidden';
      return snapshot.environments.find((e) => e.name === forced) ?? 'unknown';
    }
    const choices: EnvironmentChoice[] = snapshot.environments.map((e) => ({
      name: e.name,
      weight: e.weight,
      backup: e.backup,
      available: registry.replicas(e.name).some((r) => r.available),
    }));
    const key = userKey(request, snapshot.assignment);
    const pick = (pool: EnvironmentChoice[]) => (key ? pickSticky(pool, key) : pickWeighted(pool, Math.random()));
    // Pick among all weighted environments first; if the pick is down, its share goes to the
    // healthy ones in proportion (and is counted).
    const first = pick(choices.filter((c) => !c.backup && c.weight > 0));
    let chosen = first;
    if (!first?.available) {
      chosen = pick(eligible(choices).pool);
      if (first) metrics.failovers.inc({ from: first.name });
    }
    return chosen ? snapshot.environments.find((e) => e.name === chosen.name) : undefined;
  }

  /** Another replica of the same environment, else one of another healthy environment by weight. */
  function retryTarget(env: EnvironmentSnapshot, failed: Replica): { env: EnvironmentSnapshot; replica: Replica } | undefined {
    const sibling = pickLeastOutstanding(registry.replicas(env.name), Math.random, failed);
    if (sibling) return { env, replica: sibling };
    const snapshot = store.snapshot;
    const others = eligible(
      snapshot.environments
        .filter((e) => e.name !== env.name)
        .map((e) => ({ name: e.name, weight: e.weight, backup: e.backup, available: registry.replicas(e.name).some((r) => r.available) })),
    ).pool;
    const next = pickWeighted(others, Math.random());
    const nextEnv = next && snapshot.environments.find((e) => e.name === next.name);
    const replica = nextEnv && pickLeastOutstanding(registry.replicas(nextEnv.name));
    return nextEnv && replica ? { env: nextEnv, replica } : undefined;
  }

  async function attempt(request: FastifyRequest, replica: Replica, env: EnvironmentSnapshot) {
    const headers = endToEnd(request.headers, [OVERRIDE_HEADER]);
    headers['x-forwarded-for'] = forwardedFor(request.headers['x-forwarded-for'], request.ip);
    headers['x-forwarded-proto'] = request.protocol;
    headers['x-request-id'] = request.id;
    replica.inFlight++;
    try {
      // The pool's connect, headers and body timeouts bound the whole exchange; no per-request
      // timer is needed on this hot path.
      const res = await exchange(replica.pool, { path: request.url, method: request.method as 'POST', headers, body: request.body as Buffer | undefined }, MAX_RESPONSE_BYTES);
      health.recordResult(replica, res.statusCode >= 500, registry.replicas(env.name));
      return res;
    } catch (err) {
      health.recordResult(replica, true, registry.replicas(env.name));
      throw err;
    } finally {
      replica.inFlight--;
    }
  }

  return async function forward(request: FastifyRequest, reply: FastifyReply) {
    const started = performance.now();
    const env = chooseEnvironment(request);
    if (env === 'forbidden') return reply.code(403).send({ error: 'forbidden', message: `${OVERRIDE_HEADER} needs an admin token or an allow-listed address` });
    if (env === 'unknown') return reply.code(400).send({ error: 'bad_request', message: `${OVERRIDE_HEADER} names no configured environment` });
    const noUpstream = () => reply.code(503).header('retry-after', '1').send({ error: 'no_healthy_upstream', message: 'no healthy environment can take this request' });
    if (!env) return noUpstream();
    const target: EnvironmentSnapshot = env;
    budget.recordRequest();

    let replica = pickLeastOutstanding(registry.replicas(env.name));
    if (!replica) return noUpstream();
    let served = env;
    let result;
    try {
      result = await attempt(request, replica, env);
    } catch (err) {
      const failure = mapUpstreamError(err);
      const other = failure.retryable ? retryTarget(env, replica) : undefined;
      if (other && budget.tryRetry()) {
        metrics.retries.inc({ backend: env.name, reason: failure.error });
        request.log.warn({ environment: env.name, from: replica.url, to: other.replica.url, code: (err as NodeJS.ErrnoException).code }, 'retrying on another replica');
        replica = other.replica;
        served = other.env;
        try {
          result = await attempt(request, replica, served);
        } catch (retryErr) {
          return fail(retryErr);
        }
      } else {
        return fail(err);
      }
    }

    const latency = performance.now() - started;
    const status = result.statusCode;
    countRequest(served, status);
    observeLatency(served, latency / 1000);
    deps.stats(served.name).record(latency, status >= 500, status === 200 ? extractConfidence(result.body) : null);
    return reply
      .code(status)
      .headers(endToEnd(result.headers as Record<string, string | string[] | undefined>, ['x-request-id']))
      .header('x-environment', served.name)
      .header('x-model-version', served.modelVersion)
      .send(result.body);

    function fail(err: unknown) {
      const failure = mapUpstreamError(err);
      const latencyMs = performance.now() - started;
      countRequest(target, failure.status);
      deps.stats(target.name).record(latencyMs, true, null);
      request.log.error({ environment: target.name, replica: replica?.url, code: (err as NodeJS.ErrnoException).code, err }, 'upstream request failed');
      return reply.code(failure.status).header('x-environment', target.name).send({ error: failure.error, message: `the ${target.name} environment did not answer (${failure.error})` });
    }
  };
}
