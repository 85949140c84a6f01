// The inference service as a Fastify app: build() takes a loaded bundle and typed config;
// server.ts does the listening.
import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { installErrorHandlers } from '../../../shared/http/error-handler.ts';
import { acceptJsonOnly, serverOptions } from '../../../shared/http/server-options.ts';
import { registerSwagger } from '../../../shared/http/swagger.ts';
import { closeConnectionsWhileDraining } from '../../../shared/http/draining.ts';
import { REQUEST_ID_HEADER } from '../../../shared/http/request-id.ts';
import { createRegistry, exposeMetrics } from '../../../shared/metrics.ts';
import type { LoadedBundle } from './bundle/load-bundle.ts';
import type { ServiceConfig } from './config.ts';
import type { ServiceContext } from './context.ts';
import { createServiceMetrics } from './metrics.ts';
import { Predictor } from './predictor.ts';
import { healthRoutes } from './routes/health.ts';
import { predictRoutes } from './routes/predict.ts';
import { v2Routes } from './routes/v2.ts';

export type AppConfig = Pick<ServiceConfig, 'logLevel' | 'batching' | 'limits' | 'rateLimit'>;

export async function build(config: AppConfig, bundle: LoadedBundle): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ logLevel: config.logLevel, component: 'inference', bodyLimit: config.limits.bodyBytes })).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandlers(app);
  acceptJsonOnly(app);

  const registry = createRegistry({ model_name: bundle.name, model_version: bundle.version });
  let predictor: Predictor | undefined;
  const metrics = createServiceMetrics(registry, () => predictor?.queued ?? 0);
  predictor = new Predictor(bundle, config.batching, {
    onBatch: (size) => metrics.batchSize.observe(size),
    onInference: (seconds) => metrics.inferenceDuration.observe(seconds),
    onPrediction: (p) => {
      metrics.confidence.observe(p.confidence);
      metrics.predictions.inc({ label: p.sentiment });
    },
  });
  const context: ServiceContext = { predictor, limits: config.limits, state: { ready: false, draining: false } };

  closeConnectionsWhileDraining(app, () => context.state.draining);
  // Callback-style hooks: they run on every request, and skip the promise an async hook costs.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    done();
  });

  await registerSwagger(app, { title: 'Sentiment inference service', version: bundle.version, description: `Serves ${bundle.name} ${bundle.version}` });
  exposeMetrics(app, registry);
  await app.register(async (scope) => {
    // Registered inside this scope, the limit covers the predict routes and never the probes.
    if (config.rateLimit.max > 0) await scope.register(rateLimit, { max: config.rateLimit.max, timeWindow: config.rateLimit.windowMs });
    await scope.register(predictRoutes, context);
    await scope.register(v2Routes, context);
  });
  await app.register(healthRoutes, context);

  // Shutdown order: readiness goes false first, fastify stops taking requests and lets in-flight
  // ones finish, then queued batches drain and the model is released.
  app.addHook('preClose', async () => {
    context.state.draining = true;
  });
  app.addHook('onClose', async () => {
    await context.predictor.drain();
    await bundle.classifier.release();
  });
  app.addHook('onReady', async () => {
    context.state.ready = true;
  });
  return app;
}
