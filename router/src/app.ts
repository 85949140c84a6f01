// The router as a Fastify app. build() wires the weights store, replica registry, health monitor
// and data path; server.ts listens. Every resource is closed by onClose.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { closeConnectionsWhileDraining } from '../../shared/http/draining.ts';
import { installErrorHandlers } from '../../shared/http/error-handler.ts';
import { REQUEST_ID_HEADER } from '../../shared/http/request-id.ts';
import { serverOptions } from '../../shared/http/server-options.ts';
import { registerSwagger } from '../../shared/http/swagger.ts';
import { createRegistry, exposeMetrics } from '../../shared/metrics.ts';
import { adminRoutes } from './admin/routes.ts';
import { apiKeyAllowed, hasBearerToken, loadApiKeys } from './auth.ts';
import type { RouterConfig } from './config.ts';
import { createRouterMetrics } from './metrics.ts';
import { Coalescer } from './proxy/coalescer.ts';
import { createForwarder } from './proxy/forward.ts';
import { RetryBudget } from './proxy/retry-budget.ts';
import { createUpstreamCall } from './proxy/upstream-call.ts';
import { SlidingWindow } from './stats/window.ts';
import { HealthMonitor } from './upstreams/health.ts';
import { UpstreamRegistry } from './upstreams/registry.ts';
import { WeightsStore } from './weights/store.ts';

export type AppConfig = Omit<RouterConfig, 'host' | 'port' | 'shutdownTimeoutMs'>;

export const PROXIED_ROUTES = [
  { method: 'POST', url: '/predict' },
  { method: 'POST', url: '/predict/batch' },
  { method: 'POST', url: '/v2/models/:name/infer' },
] as const;

export async function build(config: AppConfig): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ logLevel: config.logLevel, component: 'router', bodyLimit: config.bodyLimit })).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandlers(app);
  const log = app.log as unknown as Logger;
  const state = { draining: false };

  const registry = createRegistry({ service: 'router' });
  let store: WeightsStore | undefined;
  const upstreams = new UpstreamRegistry(
    { connections: config.poolConnections, connectTimeoutMs: config.timeouts.connectMs, headersTimeoutMs: config.timeouts.headersMs, bodyTimeoutMs: config.timeouts.bodyMs },
    log.child({ component: 'upstreams' }),
  );
  const metrics = createRouterMetrics(registry, () => upstreams, () => store);
  store = await WeightsStore.open(config.weightsFile, log.child({ component: 'weights' }), {
    onReload: (ok) => metrics.reloads.inc({ result: ok ? 'success' : 'failure' }),
  });
  const health = new HealthMonitor(upstreams, config.health, log.child({ component: 'health' }), {
    onEjection: (r) => metrics.ejections.inc({ backend: r.environment }),
  });
  upstreams.sync(store.snapshot);
  store.onChange((s) => upstreams.sync(s));
  store.watch();
  health.start();

  const windows = new Map<string, SlidingWindow>();
  const stats = (env: string) => windows.get(env) ?? windows.set(env, new SlidingWindow()).get(env)!;
  const apiKeys = loadApiKeys(config.apiKeys);
  const isAdmin = (request: FastifyRequest) => hasBearerToken(request.headers.authorization, config.adminToken);
  const budget = new RetryBudget(config.retry.ratio, config.retry.minPerSecond);
  const call = createUpstreamCall({ store, registry: upstreams, health, budget, metrics });
  const coalescer =
    config.coalesce.maxBatch > 0
      ? new Coalescer(config.coalesce, store, upstreams, call, log.child({ component: 'coalescer' }), (backend, size, overflow) => {
          metrics.coalescedBatch.observe({ backend }, size);
          if (overflow) metrics.coalescedOverflow.inc({ backend });
        })
      : undefined;
  const forward = createForwarder({
    store,
    registry: upstreams,
    budget,
    metrics,
    call,
    coalescer,
    stats,
    mayOverride: (request) => config.overrideAllow.includes(request.ip) || isAdmin(request),
  });

  closeConnectionsWhileDraining(app, () => state.draining);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  await registerSwagger(app, { title: 'Sentiment router', version: '1', description: 'Weighted blue/green/canary routing between model versions' }, true);
  exposeMetrics(app, registry);

  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_request, reply) => (state.draining ? reply.code(503).send({ status: 'draining' }) : { status: 'ok' }));

  // The data path: bodies are forwarded as bytes, never parsed and re-serialized.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    if (config.rateLimit.max > 0) {
      await scope.register(rateLimit, {
        max: config.rateLimit.max,
        timeWindow: config.rateLimit.windowMs,
        keyGenerator: (request) => (typeof request.headers['x-api-key'] === 'string' ? `key:${request.headers['x-api-key']}` : `ip:${request.ip}`),
        // Only a limited client needs to hear about the limit: three extra headers on every
        // response cost more than the counting itself.
        addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
        addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
        errorResponseBuilder: (_request, context) => ({ statusCode: 429, error: 'too_many_requests', message: `rate limit of ${context.max} requests per ${context.after} exceeded` }),
      });
    }
    if (apiKeys) {
      scope.addHook('onRequest', (request, reply, done) => {
        const key = request.headers['x-api-key'];
        if (apiKeyAllowed(apiKeys, typeof key === 'string' ? key : undefined)) return done();
        reply.code(401).send({ error: 'unauthorized', message: 'a valid X-API-Key header is required' });
      });
    }
    for (const route of PROXIED_ROUTES) scope.route({ ...route, schema: { tags: ['predict'], summary: `Proxied to the chosen environment` }, handler: forward });
  });
  await app.register(adminRoutes, { prefix: '/admin', token: config.adminToken, store, registry: upstreams, stats });

  app.addHook('preClose', async () => {
    state.draining = true;
    store!.close();
    health.stop();
  });
  app.addHook('onClose', async () => {
    await upstreams.close();
  });
  return app;
}
