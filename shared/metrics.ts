// A prom-client registry per process (never the global one, so tests can build many apps), with
// default process metrics and labels that every series carries.
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';

export function createRegistry(defaultLabels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function exposeMetrics(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
