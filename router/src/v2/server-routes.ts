// The Open Inference Protocol's server endpoints, answered by the router itself for clients
// pointed at it: its metadata, and its own health (ready while some replica can take traffic).
// A model's metadata and readiness come from an available replica serving it: of the environment
// the weights choose, or, for a versioned path, of the one serving that version. Inference is
// proxied like /predict (proxy/routes.ts).
import type { FastifyPluginAsync } from 'fastify';
import { request } from 'undici';
import { LiveResponse as Live, ModelMetadataResponse, ModelParams, ReadyResponse as Ready, ServerMetadataResponse, VersionedModelParams, serverMetadata } from '../../../shared/api/v2.ts';
import { NoHealthyUpstreamError } from '../../../shared/errors.ts';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import { environmentServing } from '../routing/by-version.ts';
import { pickLeastOutstanding } from '../routing/replica.ts';

export const v2ServerRoutes: FastifyPluginAsync = async (app) => {
  const tags = ['v2'];
  const ready = () => !app.lifecycle.draining && app.replicas.all().some((r) => r.available);
  app.get('/v2', { schema: { tags, security: [], operationId: 'v2ServerMetadata', summary: 'The server: its name, version and protocol extensions', response: { 200: ServerMetadataResponse } } }, async () => serverMetadata());
  app.get('/v2/health/live', { schema: { tags, security: [], operationId: 'v2ServerLive', summary: 'The router is up', response: { 200: Live } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags, security: [], operationId: 'v2ServerReady', summary: 'Some replica can take inference requests', response: { 200: Ready, 503: Ready } } }, async (_request, reply) =>
    reply.code(ready() ? 200 : 503).send({ ready: ready() }),
  );

  /** An available replica for the model (and version), as the weights or the version choose. */
  const replicaFor = (name: string, version?: string) => {
    const { replicas, weights, routingPolicy } = app;
    const environment = version === undefined ? routingPolicy.decide({}).environment : environmentServing(weights.snapshot.environments, (e) => replicas.versions(e), name, version);
    if (!environment) throw new NoHealthyUpstreamError();
    const candidates = replicas.replicas(environment.name).filter((r) => version === undefined || r.modelVersion === version);
    const replica = pickLeastOutstanding(candidates);
    if (!replica) throw new NoHealthyUpstreamError();
    return replica;
  };
  for (const [suffix, params, id] of [['', ModelParams, ''], ['/versions/:version', VersionedModelParams, 'Version']] as const) {
    for (const [tail, summary, response] of [['', "The model's inputs and outputs (from a replica serving it)", ModelMetadataResponse], ['/ready', 'A replica serving the model takes inference requests', Ready]] as const) {
      app.get(`/v2/models/:name${suffix}${tail}`, {
        schema: { tags, security: [], operationId: `v2Model${id}${tail ? 'Ready' : 'Metadata'}`, summary, params, response: { 200: response, 404: ErrorResponse, 503: tail ? Ready : ErrorResponse } },
      }, async (req, reply) => {
        const { name, version } = req.params as { name: string; version?: string };
        const replica = replicaFor(name, version);
        const res = await request(`${replica.url}${req.url}`, { dispatcher: replica.pool, headersTimeout: 2000, bodyTimeout: 2000 });
        return reply.code(res.statusCode as 200 | 404 | 503).type('application/json').send(await res.body.text());
      });
    }
  }
};
