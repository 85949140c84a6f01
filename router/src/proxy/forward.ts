// The data path: weights snapshot → environment → replica → undici → response. A request whose
// connection fails before any response is retried once on another replica, within the budget
// (upstream-call.ts). With coalescing on, plain {"text"} predictions travel in batches (coalescer.ts).
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueueFull } from '../../../shared/batching/micro-batcher.ts';
import type { RouterMetrics } from '../metrics.ts';
import { eligible, pickSticky, pickWeighted, type EnvironmentChoice } from '../select/environment.ts';
import type { SlidingWindow } from '../stats/window.ts';
import type { UpstreamRegistry } from '../upstreams/registry.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { WeightsStore } from '../weights/store.ts';
import { coalescableText, SEND_ALONE, type Coalescer } from './coalescer.ts';
import { endToEnd, forwardedFor } from './headers.ts';
import { mapUpstreamError } from './map-error.ts';
import type { RetryBudget } from './retry-budget.ts';
import { NoUpstream, UpstreamCallError, type UpstreamCall } from './upstream-call.ts';

export const OVERRIDE_HEADER = 'x-route-to';

export interface ForwardDeps {
  store: WeightsStore;
  registry: UpstreamRegistry;
  budget: RetryBudget;
  metrics: RouterMetrics;
  call: UpstreamCall;
  /** Set when POST /predict requests are coalesced into batches. */
  coalescer?: Coalescer;
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
  const { store, registry, budget, metrics, call, coalescer } = deps;
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
    const choices = registry.choices(snapshot.environments);
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

  function upstreamHeaders(request: FastifyRequest): Record<string, string | string[]> {
    const headers = endToEnd(request.headers, [OVERRIDE_HEADER]);
    headers['x-forwarded-for'] = forwardedFor(request.headers['x-forwarded-for'], request.ip);
    headers['x-forwarded-proto'] = request.protocol;
    headers['x-request-id'] = request.id;
    return headers;
  }

  /** Sends the request as it came; throws NoUpstream or UpstreamCallError. */
  async function proxy(request: FastifyRequest, env: EnvironmentSnapshot) {
    const { result, served } = await call(env, { path: request.url, headers: upstreamHeaders(request), body: request.body as Buffer | undefined }, request.log);
    return { served, status: result.statusCode, headers: result.headers, body: result.body };
  }

  /** A plain {"text"} prediction joins its environment's next batch; anything else is proxied. */
  async function predict(request: FastifyRequest, env: EnvironmentSnapshot) {
    const text = coalescer && request.url === '/predict' ? coalescableText(request.body as Buffer | undefined, request.headers['content-type']) : undefined;
    if (text === undefined) return proxy(request, env);
    const answer = await coalescer!.predict(env, text, request.id);
    return answer === SEND_ALONE ? proxy(request, env) : answer;
  }

  return async function forward(request: FastifyRequest, reply: FastifyReply) {
    const started = performance.now();
    const env = chooseEnvironment(request);
    if (env === 'forbidden') return reply.code(403).send({ error: 'forbidden', message: `${OVERRIDE_HEADER} needs an admin token or an allow-listed address` });
    if (env === 'unknown') return reply.code(400).send({ error: 'bad_request', message: `${OVERRIDE_HEADER} names no configured environment` });
    const noUpstream = () => reply.code(503).header('retry-after', '1').send({ error: 'no_healthy_upstream', message: 'no healthy environment can take this request' });
    if (!env) return noUpstream();
    budget.recordRequest();

    let answer: { served: EnvironmentSnapshot; status: number; headers: IncomingHttpHeaders; body: Buffer };
    try {
      answer = await predict(request, env);
    } catch (err) {
      if (err instanceof NoUpstream) return noUpstream();
      if (err instanceof QueueFull) return reply.code(503).header('retry-after', '1').send({ error: 'overloaded', message: `the ${env.name} environment has too many requests waiting` });
      return fail(err);
    }

    const { served, status, body } = answer;
    const latency = performance.now() - started;
    countRequest(served, status);
    observeLatency(served, latency / 1000);
    deps.stats(served.name).record(latency, status >= 500, status === 200 ? extractConfidence(body) : null);
    return reply
      .code(status)
      .headers(endToEnd(answer.headers as Record<string, string | string[] | undefined>, ['x-request-id']))
      .header('x-environment', served.name)
      .header('x-model-version', served.modelVersion)
      .send(body);

    function fail(err: unknown) {
      const failure = err instanceof UpstreamCallError ? err.failure : mapUpstreamError(err);
      const cause = err instanceof UpstreamCallError ? err.cause : err;
      const target = env as EnvironmentSnapshot;
      countRequest(target, failure.status);
      deps.stats(target.name).record(performance.now() - started, true, null);
      request.log.error({ environment: target.name, upstream: err instanceof UpstreamCallError ? err.upstream : undefined, code: (cause as NodeJS.ErrnoException).code, err: cause }, 'upstream request failed');
      return reply.code(failure.status).header('x-environment', target.name).send({ error: failure.error, message: `the ${target.name} environment did not answer (${failure.error})` });
    }
  };
}
