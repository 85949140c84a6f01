import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthResponse, INFO_PATH, InfoResponse, LIVE_PATH, ProbeResponse, READY_PATH } from '../../../../shared/api/health.ts';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { bundle } = app.predictor;
  const state = app.lifecycle;
  const probe = { tags: ['health'], response: { 200: ProbeResponse, 503: ProbeResponse } };

  app.get(LIVE_PATH, { schema: { ...probe, operationId: 'live', summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get(READY_PATH, { schema: { ...probe, operationId: 'ready', summary: 'Model loaded, warmed up and not draining' } }, async (_request, reply) => {
    if (state.draining) return reply.code(503).send({ status: 'draining' });
    if (!state.ready) return reply.code(503).send({ status: 'starting' });
    return { status: 'ok' };
  });

  app.get('/health', { schema: { tags: ['health'], operationId: 'health', summary: 'Status, whether the model is loaded, and which one', response: { 200: HealthResponse } } }, async () => ({
    status: state.draining ? ('draining' as const) : state.ready ? ('ok' as const) : ('starting' as const),
    model_loaded: state.ready,
    version: bundle.version,
    name: bundle.name,
  }));

  app.get(INFO_PATH, { schema: { tags: ['model'], operationId: 'info', summary: "The bundle's metadata", response: { 200: InfoResponse } } }, async () => ({
    name: bundle.name,
    version: bundle.version,
    labels: bundle.labels,
    inputs: [...bundle.inputs],
    output: bundle.output.name,
    max_length: bundle.encoder.maxLength,
    concurrency: app.predictor.concurrency,
    metadata: bundle.metadata,
    integrity: { manifest: bundle.integrity.manifest, signed: bundle.integrity.signed },
  }));
};
