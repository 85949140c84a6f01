// /admin: bearer-token protected, OpenAPI-documented, over the app's weights, replicas, routing
// and stats. Promotion, rollback and A/B reports will sit beside these as further routes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import { DeploymentStatus, ModelRegistryView } from '../../../shared/api/deployments.ts';
import { NoControllerReportError } from '../../../shared/errors.ts';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import type { AccessTokens } from '../auth.ts';
import type { RouterConfig } from '../config.ts';
import { ADMIN_SECURITY, requireAccess } from './access.ts';
import type { ControllerReports } from '../plugins/controller-reports.ts';
import { WeightsUpdate } from '../weights/schema.ts';
import { ExperimentReport } from '../experiments/schema.ts';
import { HistoryEntry } from '../history/schema.ts';
import { BanditRequest, BanditsView, BanditView } from '../rollouts/bandit-schema.ts';
import { DriftView } from '../drift/schema.ts';
import { RolloutRequest, RolloutsView, RolloutView } from '../rollouts/schema.ts';
import { registryRoutes } from './registry-routes.ts';
import { environmentsView, rollbackNow } from './views.ts';
import { ConfigView, HistoryQuery, ReportQuery, ReplicaBody, ReplicaView, StatsQuery, StatsView } from './schemas.ts';

export const adminRoutes: FastifyPluginAsyncTypebox<{ tokens: AccessTokens; source: RouterConfig['source'] }> = async (app, { tokens, source }) => {
  const { weights, replicas, windows: stats } = app;
  app.addHook('onRequest', requireAccess(tokens));
  const security = ADMIN_SECURITY;
  const tags = ['admin'];
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse };

  const configView = () => {
    const s = weights.snapshot;
    return {
      file: weights.file,
      weights_kept_in: weights.mode,
      generation: s.generation,
      loaded_at: s.loadedAt,
      assignment: s.assignment,
      environments: environmentsView(app),
      last_reload: { ok: weights.lastFailure === null, last_success_at: weights.lastSuccessAt, failure: weights.lastFailure },
      controller: app.controller.view(),
      router: { file: source.file, overrides: source.overrides, settings: source.settings },
    };
  };

  app.get('/config', { schema: { tags, security, operationId: 'getConfig', summary: "Weights in force, live shares, the last reload result, and the router's own settings", response: { 200: ConfigView, 401: ErrorResponse } } }, async () => configView());

  app.put('/weights', {
    schema: { tags, security, operationId: 'setWeights', summary: 'Set weights (validated, applied atomically, and kept: written back to the weights file, or with a state store in the live state every router applies within a second)', body: WeightsUpdate, response: { 200: ConfigView, ...errors } },
  }, async (request) => {
    await weights.update(request.body, { cause: 'admin', running: (environment) => replicas.replicas(environment).length > 0 });
    await app.history.flush(); // the change and its history entry are on disk before the 200
    return configView();
  });

  app.get('/replicas', { schema: { tags, security, operationId: 'listReplicas', summary: 'Every replica: health, in-flight requests, ejections', response: { 200: Type.Array(ReplicaView), 401: ErrorResponse } } }, async () =>
    replicas.all().map((r) => ({
      environment: r.environment,
      url: r.url,
      model: r.model,
      model_version: r.modelVersion,
      source: r.source,
      healthy: r.healthy,
      available: r.available,
      in_flight: r.inFlight,
      concurrency: r.concurrency,
      ejected_until: r.ejected ? new Date(r.ejectedUntil).toISOString() : null,
      ejections: r.ejections,
      last_check_error: r.lastCheckError,
    })),
  );

  app.post('/replicas', { schema: { tags, security, operationId: 'registerReplica', summary: 'Register a replica (it takes traffic once its readiness check passes)', body: ReplicaBody, response: { 201: ReplicaBody, ...errors } } }, async (request, reply) => {
    const r = replicas.register(request.body.environment, request.body.url);
    return reply.code(201).send({ environment: r.environment, url: r.url });
  });

  app.delete('/replicas', { schema: { tags, security, operationId: 'deregisterReplica', summary: 'Deregister a replica (in-flight requests finish first)', body: ReplicaBody, response: { 200: ReplicaBody, ...errors } } }, async (request) => {
    await replicas.deregister(request.body.environment, request.body.url);
    return { environment: request.body.environment, url: request.body.url };
  });

  // The controller (npm start's launcher) reports its deployments and the model registry here after
  // every change (PUT); the router shows the last report (GET).
  const reports = app.controllerReports;
  const reportRoutes = <K extends keyof ControllerReports>(key: K, schema: TSchema, summaries: { report: string; show?: string }) => {
    const capitalized = key[0].toUpperCase() + key.slice(1);
    app.put(`/${key}`, { schema: { tags, security, operationId: `report${capitalized}`, summary: summaries.report, body: schema, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
      reports[key] = request.body as ControllerReports[K];
      return reply.code(204).send(null);
    });
    if (!summaries.show) return; // shown by a route of its own
    app.get(`/${key}`, { schema: { tags, security, operationId: `get${capitalized}`, summary: summaries.show, response: { 200: schema, ...errors } } }, async () => {
      const report = reports[key];
      if (!report) throw new NoControllerReportError(key);
      return report;
    });
  };
  reportRoutes('deployments', DeploymentStatus, {
    report: "The controller's report: each environment's replicas, versions and update in progress",
    show: 'Per environment: desired, ready and updated replicas, versions, the update in progress and the last error',
  });
  // GET /admin/models shows the report with each bundle's stage (registry-routes.ts).
  reportRoutes('models', ModelRegistryView, { report: "The controller's report: the bundles it can deploy" });
  await app.register(registryRoutes);

  // Progressive delivery: rollouts in steps with analysis, rollback in one call, the decision trail.
  const { rollouts, history } = app;
  app.post('/rollouts', { schema: { tags, security, operationId: 'startRollout', summary: 'Start a rollout: traffic moves from the baseline to the target in steps, each held for a pause and analysed', body: RolloutRequest, response: { 201: RolloutView, ...errors } } }, async (request, reply) => {
    const view = await rollouts.start(request.body);
    await history.flush(); // kept, with its trail, before it is acknowledged
    return reply.code(201).send(view);
  });
  app.get('/rollouts', { schema: { tags, security, operationId: 'getRollouts', summary: 'The rollout in progress (current), the last one that ended, and which router runs them', response: { 200: RolloutsView, 401: ErrorResponse } } }, async () => rollouts.views());
  const acknowledged = async <T>(change: Promise<T>): Promise<T> => {
    const result = await change;
    await history.flush();
    return result;
  };
  app.post('/rollouts/current/pause', { schema: { tags, security, operationId: 'pauseRollout', summary: 'Hold the rollout at its step', response: { 200: RolloutView, ...errors } } }, async () => acknowledged(rollouts.pause()));
  app.post('/rollouts/current/resume', { schema: { tags, security, operationId: 'resumeRollout', summary: 'Go on from the step it was paused at', response: { 200: RolloutView, ...errors } } }, async () => acknowledged(rollouts.resume()));
  app.post('/rollouts/current/abort', { schema: { tags, security, operationId: 'abortRollout', summary: 'Stop the rollout and put back the weights from before it', response: { 200: RolloutView, ...errors } } }, async () => acknowledged(rollouts.abort()));
  const { bandit } = rollouts;
  app.post('/bandit', { schema: { tags, security, operationId: 'startBandit', summary: "Start a multi-armed bandit: the arms' weights set every interval by Thompson sampling on the accuracy learnt from POST /feedback, each arm held between a floor and a cap", body: BanditRequest, response: { 201: BanditView, ...errors } } }, async (request, reply) => {
    const view = await bandit.start(request.body);
    await history.flush();
    return reply.code(201).send(view);
  });
  app.get('/bandit', { schema: { tags, security, operationId: 'getBandit', summary: "The bandit (running, paused, or the last one stopped): its arms' posteriors, chances of being best and weights at the last update, and which router runs it", response: { 200: BanditsView, 401: ErrorResponse } } }, async () => ({ bandit: bandit.view(), controller: app.controller.view() }));
  app.post('/bandit/pause', { schema: { tags, security, operationId: 'pauseBandit', summary: 'Hold the weights where they are; feedback keeps counting', response: { 200: BanditView, ...errors } } }, async () => acknowledged(bandit.pause()));
  app.post('/bandit/resume', { schema: { tags, security, operationId: 'resumeBandit', summary: 'Update the weights again, from the weights in force', response: { 200: BanditView, ...errors } } }, async () => acknowledged(bandit.resume()));
  app.post('/bandit/stop', { schema: { tags, security, operationId: 'stopBandit', summary: 'Stop updating: the weights stay as they are (POST /admin/rollback puts back those from before the bandit)', response: { 200: BanditView, ...errors } } }, async () => acknowledged(bandit.stop()));
  app.post('/rollback', { schema: { tags, security, operationId: 'rollback', summary: 'Back to safety in one call: abort the rollout in progress, or stop the bandit and restore the weights from before it, or restore the weights from before the last change', response: { 200: Type.Object({ weights: Type.Record(Type.String(), Type.Number()) }), ...errors } } }, async () => rollbackNow(app));
  app.get('/history', { schema: { tags, security, operationId: 'getHistory', summary: 'The decision trail, newest first: weight changes with their cause and weights before and after, rollout steps, analyses and guard actions with metric, value, threshold, window and sample', querystring: HistoryQuery, response: { 200: Type.Array(HistoryEntry), 401: ErrorResponse } } }, async (request) =>
    history.list({ limit: Number(request.query.limit ?? 100), environment: request.query.environment, kind: request.query.kind }),
  );

  // The A/B report: per environment and version since the experiment started, with online accuracy from feedback.
  app.get('/experiments/report', { schema: { tags, security, operationId: 'getExperimentReport', summary: 'Per environment and version: requests, error rate, latency, mean confidence (a proxy), label mix, online accuracy with its 95% interval and a test against the baseline, and a recommendation', querystring: ReportQuery, response: { 200: ExperimentReport, 401: ErrorResponse } } }, async (request) =>
    withDrift(app.experiment.report(request.query.baseline), app.driftView()),
  );
  app.get('/drift', { schema: { tags, security, operationId: 'getDrift', summary: "Drift per environment and version: its last predictions (label mix, confidence, length, unknown word pieces) tested against its bundle's reference on SST dev and against the control arm, each test with its statistic, p-value, threshold and window", response: { 200: DriftView, 401: ErrorResponse } } }, async () => app.driftView());
  app.post('/experiments/reset', { schema: { tags, security, operationId: 'resetExperiment', summary: 'Start a new experiment: the report counts from now', response: { 204: Type.Null(), 401: ErrorResponse, 503: ErrorResponse } } }, async (_request, reply) => {
    await app.experiment.reset();
    return reply.code(204).send(null);
  });

  app.get('/stats', { schema: { tags, security, operationId: 'getStats', summary: 'Per environment over a sliding window: rps, error rate, latency percentiles, mean confidence', querystring: StatsQuery, response: { 200: StatsView, 401: ErrorResponse } } }, async (request) => {
    const window = Number(request.query.window ?? 60);
    return {
      window_seconds: window,
      environments: Object.fromEntries(weights.snapshot.environments.map((e) => [e.name, stats.of(e.name, window)])),
    };
  });
};

/** The report's rows with what drift monitoring says of each environment and version. */
function withDrift(report: ExperimentReport, drift: DriftView): ExperimentReport {
  return {
    ...report,
    versions: report.versions.map((v) => {
      const d = drift.environments.find((e) => e.environment === v.environment && e.model_version === v.model_version);
      return { ...v, drift: d && d.tests.length ? { drifted: d.drifted, failed: d.tests.filter((t) => !t.passed).map((t) => `${t.name} against ${t.against} (p = ${t.p_value} < ${t.threshold})`) } : null };
    }),
  };
}
