// The Open Inference Protocol's server endpoints, answered by the router itself for clients
// pointed at it: its metadata, and its own health (ready while some replica can take traffic).
// A model's metadata and readiness come from an available replica serving it, through the data
// path's decision and send: of the environment the weights choose, or, for a versioned path, of the
// one serving that version. Inference is proxied like /predict (proxy/routes.ts).
import type { FastifyPluginAsync } from 'fastify';
import { LiveResponse as Live, ModelMetadataResponse, ModelParams, ReadyResponse as Ready, ServerMetadataResponse, VersionedModelParams, serverMetadata } from '../../../shared/api/v2.ts';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import { askReplica, routerReady } from './model-replica.ts';

export const v2ServerRoutes: FastifyPluginAsync = async (app) => {
  const tags = ['v2'];
  const ready = () => routerReady(app);
  app.get('/v2', { schema: { tags, security: [], operationId: 'v2ServerMetadata', summary: 'The server: its name, version and protocol extensions', response: { 200: ServerMetadataResponse } } }, async () => serverMetadata());
  app.get('/v2/health/live', { schema: { tags, security: [], operationId: 'v2ServerLive', summary: 'The router is up', response: { 200: Live } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags, security: [], operationId: 'v2ServerReady', summary: 'Some replica can take inference requests', response: { 200: Ready, 503: Ready } } }, async (_request, reply) =>
    reply.code(ready() ? 200 : 503).send({ ready: ready() }),
  );

  for (const [suffix, params, id] of [['', ModelParams, ''], ['/versions/:version', VersionedModelParams, 'Version']] as const) {
    for (const [tail, summary, response] of [['', "The model's inputs and outputs (from a replica serving it)", ModelMetadataResponse], ['/ready', 'A replica serving the model takes inference requests', Ready]] as const) {
      app.get(`/v2/models/:name${suffix}${tail}`, {
        schema: { tags, security: [], operationId: `v2Model${id}${tail ? 'Ready' : 'Metadata'}`, summary, params, response: { 200: response, 404: ErrorResponse, 503: tail ? Ready : ErrorResponse } },
      }, async (req, reply) => {
        const { name, version } = req.params as { name: string; version?: string };
        const { status, body } = await askReplica(app, { headers: req.headers, ip: req.ip }, name, version, tail);
        return reply.code(status as 200 | 404 | 503).type('application/json').send(body);
      });
    }
  }
};
