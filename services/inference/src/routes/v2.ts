// The Open Inference Protocol (KServe v2) REST API, so standard inference clients can call us:
// server health and metadata, model metadata and readiness, and inference, each model route
// unversioned and versioned. The model takes one BYTES input named "text" (flat, or nested as its
// shape says) and answers a "label" BYTES and a "probabilities" FP32 output (open-inference.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses, ErrorResponse } from '../../../../shared/http/schemas.ts';
import { InferResponse, LiveResponse as Live, ModelMetadataResponse, ModelParams, ReadyResponse as Ready, ServerMetadataResponse, VersionedModelParams, inferBody, serverMetadata } from '../../../../shared/api/v2.ts';
import type { TextLimits } from '../../../../shared/api/prediction.ts';
import { createOpenInference } from '../open-inference.ts';

export const v2Routes: FastifyPluginAsyncTypebox<{ limits: TextLimits }> = async (app, { limits }) => {
  const api = createOpenInference(app.predictor, app.lifecycle);
  const tags = ['v2'];

  app.get('/v2', { schema: { tags, operationId: 'v2ServerMetadata', summary: 'The server: its name, version and protocol extensions', response: { 200: ServerMetadataResponse } } }, async () => serverMetadata());
  app.get('/v2/health/live', { schema: { tags, operationId: 'v2ServerLive', summary: 'The server is up', response: { 200: Live } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags, operationId: 'v2ServerReady', summary: 'The server takes inference requests', response: { 200: Ready, 503: Ready } } }, async (_req, reply) =>
    reply.code(api.ready() ? 200 : 503).send({ ready: api.ready() }),
  );

  const inferSchema = { 200: InferResponse, ...errorResponses, 404: ErrorResponse };
  for (const [suffix, params, id] of [['', ModelParams, ''], ['/versions/:version', VersionedModelParams, 'Version']] as const) {
    const base = `/v2/models/:name${suffix}`;
    app.get(base, { schema: { tags, operationId: `v2Model${id}Metadata`, summary: "The model's inputs and outputs", params, response: { 200: ModelMetadataResponse, 404: ErrorResponse } } }, async (request) => {
      api.check(request.params);
      return api.metadata();
    });
    app.get(`${base}/ready`, { schema: { tags, operationId: `v2Model${id}Ready`, summary: 'The model takes inference requests', params, response: { 200: Ready, 503: Ready, 404: ErrorResponse } } }, async (request, reply) => {
      api.check(request.params);
      return reply.code(api.ready() ? 200 : 503).send({ ready: api.ready() });
    });
    app.post(`${base}/infer`, {
      schema: { tags, operationId: `v2Model${id}Infer`, summary: 'Classify texts given as a BYTES tensor named "text"', params, body: inferBody(limits), response: inferSchema },
    }, async (request) => {
      api.check(request.params);
      return api.infer(request.body);
    });
  }
};
