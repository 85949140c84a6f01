// /admin: bearer-token protected, OpenAPI-documented. Promotion, rollback and A/B reports will
// sit beside these as further routes over the same store and registry.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import { hasBearerToken } from '../auth.ts';
import { eligible } from '../select/environment.ts';
import type { SlidingWindow } from '../stats/window.ts';
import type { UpstreamRegistry } from '../upstreams/registry.ts';
import { WeightsError } from '../weights/parse.ts';
import { WeightsUpdate } from '../weights/schema.ts';
import type { WeightsStore } from '../weights/store.ts';
import { ConfigView, StatsQuery, StatsView, UpstreamBody, UpstreamView } from './schemas.ts';

export interface AdminDeps {
  token: string;
  store: WeightsStore;
  registry: UpstreamRegistry;
  stats: (environment: string) => SlidingWindow;
}

export const adminRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, { token, store, registry, stats }) => {
  app.addHook('onRequest', async (request, reply) => {
    if (!hasBearerToken(request.headers.authorization, token)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid admin bearer token is required' });
    }
  });
  const security = [{ bearerAuth: [] }];
  const tags = ['admin'];
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

  const configView = () => {
    const s = store.snapshot;
    const pool = eligible(registry.choices(s.environments)).pool;
    const total = pool.reduce((sum, e) => sum + e.weight, 0);
    return {
      file: store.file,
      generation: s.generation,
      loaded_at: s.loadedAt,
      assignment: s.assignment,
      environments: s.environments.map((e) => ({
        name: e.name,
        weight: e.weight,
        share: total ? (pool.find((p) => p.name === e.name)?.weight ?? 0) / total : 0,
        model_version: e.modelVersion,
        backup: e.backup,
        healthy_replicas: registry.availableCount(e.name),
        replicas: registry.replicas(e.name).length,
      })),
      last_reload: { ok: store.lastFailure === null, last_success_at: store.lastSuccessAt, failure: store.lastFailure },
    };
  };

  app.get('/config', { schema: { tags, security, summary: 'Weights in force, live shares and the last reload result', response: { 200: ConfigView, 401: ErrorResponse } } }, async () => configView());

  app.put('/weights', {
    schema: { tags, security, summary: 'Set weights (validated, applied atomically and written back to the weights file)', body: WeightsUpdate, response: { 200: ConfigView, ...errors } },
  }, async (request, reply) => {
    try {
      await store.update(request.body);
    } catch (err) {
      if (err instanceof WeightsError) return reply.code(400).send({ error: 'bad_request', message: err.message });
      throw err;
    }
    return configView();
  });

  app.get('/upstreams', { schema: { tags, security, summary: 'Every replica: health, in-flight requests, ejections', response: { 200: Type.Array(UpstreamView), 401: ErrorResponse } } }, async () =>
    registry.all().map((r) => ({
      environment: r.environment,
      url: r.url,
      source: r.source,
      healthy: r.healthy,
      available: r.available,
      in_flight: r.inFlight,
      ejected_until: r.ejected ? new Date(r.ejectedUntil).toISOString() : null,
      ejections: r.ejections,
      last_check_error: r.lastCheckError,
    })),
  );

  app.post('/upstreams', { schema: { tags, security, summary: 'Register a replica (it takes traffic once its readiness check passes)', body: UpstreamBody, response: { 201: Type.Object({ environment: Type.String(), url: Type.String() }), ...errors } } }, async (request, reply) => {
    const r = registry.register(request.body.environment, request.body.url);
    return reply.code(201).send({ environment: r.environment, url: r.url });
  });

  app.delete('/upstreams', { schema: { tags, security, summary: 'Deregister a replica (in-flight requests finish first)', body: UpstreamBody, response: { 200: Type.Object({ environment: Type.String(), url: Type.String() }), ...errors } } }, async (request) => {
    await registry.deregister(request.body.environment, request.body.url);
    return { environment: request.body.environment, url: request.body.url };
  });

  app.get('/stats', { schema: { tags, security, summary: 'Per environment over a sliding window: rps, error rate, latency percentiles, mean confidence', querystring: StatsQuery, response: { 200: StatsView, 401: ErrorResponse } } }, async (request) => {
    const window = Number(request.query.window ?? 60);
    return {
      window_seconds: window,
      environments: Object.fromEntries(store.snapshot.environments.map((e) => [e.name, { model_version: e.modelVersion, ...stats(e.name).stats(window) }])),
    };
  });
};
