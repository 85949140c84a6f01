// Every answered request counted and timed by route, method and status.
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { createHttpMetrics } from '../metrics.ts';

const httpMetrics: FastifyPluginCallback = (app, _opts, done) => {
  const metrics = createHttpMetrics(app.metricsRegistry);
  // A callback-style hook: it runs on every request, and skips the promise an async hook costs.
  app.addHook('onResponse', (request, reply, next) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    next();
  });
  done();
};

export const httpMetricsPlugin = fp(httpMetrics, { name: 'http-metrics', dependencies: ['metrics'] });
