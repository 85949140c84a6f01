// A prom-client registry per app (never the global one, so tests can build many apps), with
// default process metrics and labels every series carries, exposed at GET /metrics (open, as
// Prometheus expects inside a cluster, or behind a bearer token). Plugins add their own metrics to
// `app.metricsRegistry`.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { UnauthorizedError } from './errors.ts';
import { hasBearerToken } from './http/secrets.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metricsRegistry: Registry;
  }
}

export interface MetricsOptions {
  defaultLabels: Record<string, string>;
  /** When set, GET /metrics needs it as a bearer token (Prometheus: authorization.credentials). */
  token?: string;
}

const metrics: FastifyPluginAsync<MetricsOptions> = async (app, { defaultLabels, token }) => {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  app.decorate('metricsRegistry', registry);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token !== undefined && !hasBearerToken(request.headers.authorization, token)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new UnauthorizedError('the metrics bearer token');
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};

export const metricsPlugin = fp(metrics, { name: 'metrics' });
