// The Open Inference Protocol's server endpoints, answered by the router itself for clients
// pointed at it: its metadata, and its own health (ready while some replica can take traffic).
// Inference is proxied like /predict (proxy/routes.ts).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ServerMetadataResponse } from '../../../shared/api/v2.ts';
import { PACKAGE } from '../../../shared/package-info.ts';

export const v2ServerRoutes: FastifyPluginAsync = async (app) => {
  const tags = ['v2'];
  const Live = Type.Object({ live: Type.Boolean() });
  const Ready = Type.Object({ ready: Type.Boolean() });
  const ready = () => !app.lifecycle.draining && app.replicas.all().some((r) => r.available);
  app.get('/v2', { schema: { tags, security: [], operationId: 'v2ServerMetadata', summary: 'The server: its name, version and protocol extensions', response: { 200: ServerMetadataResponse } } }, async () => ({
    name: PACKAGE.name,
    version: PACKAGE.version,
    extensions: [],
  }));
  app.get('/v2/health/live', { schema: { tags, security: [], operationId: 'v2ServerLive', summary: 'The router is up', response: { 200: Live } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags, security: [], operationId: 'v2ServerReady', summary: 'Some replica can take inference requests', response: { 200: Ready, 503: Ready } } }, async (_request, reply) =>
    reply.code(ready() ? 200 : 503).send({ ready: ready() }),
  );
};
