// /admin/models (stages) and /admin/releases: the model registry's stages and the release in
// progress, as `npm run release` drives them and an operator reads them. Registered inside the
// admin routes (same token rules).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NoControllerReportError } from '../../../shared/errors.ts';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import { modelsView } from './views.ts';
import { ModelsView, ReleaseClaimView, ReleaseRecord, ReleasesView, ReleaseStart, ReleaseUpdate, StageChange, StageChangeResult, StageParams, StagesView } from '../registry/schema.ts';
import { ADMIN_SECURITY } from './access.ts';

export const registryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = ADMIN_SECURITY;
  const tags = ['admin'];
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse };
  const { registry, history } = app;

  app.get('/models', { schema: { tags, security, operationId: 'getModels', summary: 'The model registry: every bundle in the models folder with its metadata (accuracy, training date, size, lineage), where it runs, and its stage with the moves that brought it there', response: { 200: ModelsView, ...errors } } }, async () => {
    const view = await modelsView(app);
    if (!view) throw new NoControllerReportError('models');
    return view;
  });
  app.get('/models/stages', { schema: { tags, security, operationId: 'getStages', summary: 'Every model version that was ever moved, with its stage and moves (a version never moved is a candidate); answers without a controller too', response: { 200: StagesView, ...errors } } }, async () => ({ stages: await registry.stages() }));
  app.put('/models/:model/:version/stage', { schema: { tags, security, operationId: 'setStage', summary: 'Move a model version to a stage (recorded in the trail). Production holds one version per model: the one it replaces is archived, kept as the backup', params: StageParams, body: StageChange, response: { 200: StageChangeResult, ...errors } } }, async (request) => {
    const changed = await registry.setStage(request.params.model, request.params.version, request.body);
    await history.flush();
    return { changed };
  });

  app.get('/releases', { schema: { tags, security, operationId: 'getReleases', summary: 'The release in progress (npm run release) with its steps, and the last one that ended', response: { 200: ReleasesView, ...errors } } }, async () => registry.releases());
  app.post('/releases', { schema: { tags, security, operationId: 'claimRelease', summary: 'Start a release, or resume it (the same bundle, by its manifest digest): one release at a time, another one refused with the one in progress named', body: ReleaseStart, response: { 200: ReleaseClaimView, 201: ReleaseClaimView, ...errors } } }, async (request, reply) => {
    const claim = await registry.claimRelease(request.body);
    await history.flush();
    return reply.code(claim.resumed ? 200 : 201).send(claim);
  });
  app.put('/releases/current', { schema: { tags, security, operationId: 'updateRelease', summary: "Record the release's steps and state; a final state (promoted, rolled_back, refused, abandoned) ends it", body: ReleaseUpdate, response: { 200: ReleaseRecord, ...errors } } }, async (request) => {
    const release = await registry.updateRelease(request.body);
    await history.flush();
    return release;
  });
};
