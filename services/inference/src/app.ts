// The inference service as a Fastify app, composed of plugins (lifecycle, metrics, the model) and
// route plugins over them: build() takes a loaded bundle and typed config; server.ts listens.
import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RateLimitedError } from '../../../shared/errors.ts';
import { installErrorHandlers } from '../../../shared/http/error-handler.ts';
import { lifecyclePlugin } from '../../../shared/http/lifecycle.ts';
import { acceptJsonOnly, serverOptions } from '../../../shared/http/server-options.ts';
import { registerSwagger } from '../../../shared/http/swagger.ts';
import { isWarmUp } from '../../../shared/http/warm-up.ts';
import { metricsPlugin } from '../../../shared/metrics.ts';
import type { LoadedBundle } from './bundle/load-bundle.ts';
import type { ServiceConfig } from './config.ts';
import { httpMetricsPlugin } from './plugins/http-metrics.ts';
import { grpcPlugin } from './plugins/grpc.ts';
import { modelPlugin } from './plugins/model.ts';
import { healthRoutes } from './routes/health.ts';
import { predictRoutes } from './routes/predict.ts';
import { v2Routes } from './routes/v2.ts';

export type AppConfig = Pick<ServiceConfig, 'logLevel' | 'batching' | 'limits' | 'rateLimit'> & Partial<Pick<ServiceConfig, 'metricsToken' | 'shutdownTimeoutMs'>>;

export async function build(config: AppConfig, bundle: LoadedBundle): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ logLevel: config.logLevel, component: 'inference', bodyLimit: config.limits.bodyBytes })).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandlers(app);
  acceptJsonOnly(app);
  // Shutdown order: readiness goes false first (lifecycle), Fastify stops taking requests and lets
  // in-flight ones finish, then queued batches drain and the model is released (model).
  await app.register(lifecyclePlugin);
  await registerSwagger(app, {
    info: { title: 'Sentiment inference service', version: bundle.version, description: `Serves ${bundle.name} ${bundle.version}. One replica of an environment: the router sends it traffic, and nothing outside the deployment's network should reach it.` },
    servers: [{ url: 'http://127.0.0.1:8000', description: 'npm run start:service' }],
    // No credentials: the router in front holds the keys and the rate limit.
    security: [],
  });
  await app.register(metricsPlugin, { defaultLabels: { model_name: bundle.name, model_version: bundle.version }, token: config.metricsToken });
  await app.register(httpMetricsPlugin);
  await app.register(modelPlugin, { bundle, batching: config.batching });
  await app.register(grpcPlugin, { limits: config.limits, graceMs: config.shutdownTimeoutMs ?? 30_000 });

  await app.register(async (scope) => {
    // Registered inside this scope, the limit covers the predict routes and never the probes.
    if (config.rateLimit.max > 0) {
      // The replica's own warm-up requests (warm-up.ts) use no client's allowance.
      await scope.register(rateLimit, { max: config.rateLimit.max, timeWindow: config.rateLimit.windowMs, allowList: (request) => isWarmUp(request.raw), errorResponseBuilder: (_request, context) => new RateLimitedError(context.max ?? 0, context.after) });
    }
    await scope.register(predictRoutes, { limits: config.limits });
    await scope.register(v2Routes, { limits: config.limits });
  });
  await app.register(healthRoutes);
  return app;
}
