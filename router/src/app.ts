// The router as a Fastify app, composed of plugins that each own, decorate and close one resource
// (as fastify's demo app is): metrics, the weights file, replicas and their health, the routing
// policy, the data path, the controller's reports and the admin API. server.ts listens.
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { installErrorHandlers } from '../../shared/http/error-handler.ts';
import { lifecyclePlugin } from '../../shared/http/lifecycle.ts';
import { serverOptions } from '../../shared/http/server-options.ts';
import { registerSwagger } from '../../shared/http/swagger.ts';
import { DEFAULT_TEXT_LIMITS } from '../../shared/api/prediction.ts';
import { metricsPlugin } from '../../shared/metrics.ts';
import { LIVE_PATH, ProbeResponse, READY_PATH } from '../../shared/api/health.ts';
import { adminRoutes } from './admin/routes.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { v2ServerRoutes } from './v2/server-routes.ts';
import type { RouterConfig } from './config.ts';
import { controllerReportsPlugin } from './plugins/controller-reports.ts';
import { grpcPlugin } from './grpc/service.ts';
import { graphqlPlugin } from './plugins/graphql.ts';
import { historyPlugin } from './plugins/history.ts';
import { proxyPlugin } from './plugins/proxy.ts';
import { driftPlugin } from './plugins/drift.ts';
import { rolloutsPlugin } from './plugins/rollouts.ts';
import { registryPlugin } from './plugins/registry.ts';
import { replicasPlugin } from './plugins/replicas.ts';
import { routingPlugin } from './plugins/routing.ts';
import { statePlugin } from './plugins/state.ts';
import { weightsPlugin } from './plugins/weights.ts';

export type AppConfig = Omit<RouterConfig, 'host' | 'port' | 'grpcPort' | 'shutdownTimeoutMs'> & Partial<Pick<RouterConfig, 'shutdownTimeoutMs'>>;

export async function build(config: AppConfig): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ logLevel: config.logLevel, component: 'router', bodyLimit: config.bodyLimit })).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandlers(app);
  await app.register(lifecyclePlugin);
  await registerSwagger(app, {
    info: { title: 'Sentiment router', version: '1', description: 'Weighted blue/green/canary routing between model versions: the public prediction API, proxied to the environment the weights choose, and the admin API that steers it' },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'npm start (deploy/local.yaml)' }],
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'the admin token (ROUTER_ADMIN_TOKEN), or the read-only token (ROUTER_READ_TOKEN) for GET' },
      basicAuth: { type: 'http', scheme: 'basic', description: 'the same tokens as the password of a Basic login (any user name): what a browser sends for the dashboard' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'a client key from ROUTER_API_KEYS or api_keys_file; required on the public routes once keys are configured' },
    },
  });
  await app.register(metricsPlugin, { defaultLabels: { service: 'router' }, token: config.metricsToken });

  const probe = { tags: ['health'], security: [], response: { 200: ProbeResponse, 503: ProbeResponse } };
  app.get(LIVE_PATH, { schema: { ...probe, operationId: 'routerLive', summary: 'The process is up' } }, async () => ({ status: 'ok' }));
  app.get(READY_PATH, { schema: { ...probe, operationId: 'routerReady', summary: 'Taking requests (503 while warming up or draining)' } }, async (_request, reply) => {
    if (app.lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    return app.lifecycle.warming ? reply.code(503).send({ status: 'warming up' }) : { status: 'ok' };
  });

  try {
    await compose(app, config);
  } catch (err) {
    // Whatever was opened before the failure (file watchers, pools) is closed with the app.
    await app.close().catch(() => {});
    throw err;
  }
  return app;
}

async function compose(app: FastifyInstance, config: AppConfig): Promise<void> {
  await app.register(statePlugin, { stateStore: config.stateStore });
  await app.register(weightsPlugin, { file: config.weightsFile });
  await app.register(historyPlugin, { file: config.historyFile });
  await app.register(replicasPlugin, { poolConnections: config.poolConnections, timeouts: config.timeouts, health: config.health, discovery: config.discovery });
  await app.register(routingPlugin);
  await app.register(proxyPlugin, {
    adminToken: config.adminToken,
    overrideAllow: config.overrideAllow,
    retry: config.retry,
    hedge: config.hedge,
    replicaMaxInFlight: config.replicaMaxInFlight,
    coalesce: config.coalesce,
    rateLimit: config.rateLimit,
    apiKeys: config.apiKeys,
    feedback: config.feedback,
    shadowMaxInFlight: config.shadowMaxInFlight,
    drift: config.drift,
  });
  await app.register(driftPlugin);
  await app.register(rolloutsPlugin, { guard: config.guard, rolloutsFile: config.rolloutsFile });
  await app.register(controllerReportsPlugin);
  await app.register(registryPlugin, { file: config.registryFile });
  const tokens = { admin: config.adminToken, read: config.readToken };
  await app.register(adminRoutes, { prefix: '/admin', tokens, source: config.source });
  await app.register(dashboardRoutes, { tokens });
  await app.register(graphqlPlugin, { tokens, settings: config.graphql, maxBatchTexts: DEFAULT_TEXT_LIMITS.batchTexts });
  await app.register(v2ServerRoutes);
  await app.register(grpcPlugin, { maxMessageBytes: config.bodyLimit, graceMs: config.shutdownTimeoutMs ?? 30_000 });
  await app.ready();
}
