// A prom-client registry per app (never the global one, so tests can build many apps), with
// default process metrics and labels every series carries, exposed at GET /metrics. Plugins add
// their own metrics to `app.metricsRegistry`.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metricsRegistry: Registry;
  }
}

const metrics: FastifyPluginAsync<{ defaultLabels: Record<string, string> }> = async (app, { defaultLabels }) => {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  app.decorate('metricsRegistry', registry);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};

export const metricsPlugin = fp(metrics, { name: 'metrics' });
