// The GraphQL API's resolvers: each one a thin translation of what the REST admin API and the data
// path already do (the same services, the same validation and rules), into the schema's camelCase.
// Typed by the types graphql-codegen generates from the schema (types.generated.ts).
import { randomUUID } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { GraphQLError } from 'graphql';
import type { FastifyInstance } from 'fastify';
import { REQUEST_ID_HEADER } from '../../../shared/api/headers.ts';
import { PREDICT_PATH } from '../../../shared/api/prediction.ts';
import { BadGatewayError, errorKind, FeedbackExistsError, InvalidGraphQLArgumentError, PredictionNotFoundError, ReadOnlyTokenError, UnauthorizedError } from '../../../shared/errors.ts';
import { environmentsView, modelsView, rollbackNow } from '../admin/views.ts';
import type { HistoryEntry } from '../history/schema.ts';
import { RolloutRequest, type RolloutView } from '../rollouts/schema.ts';
import { WeightsUpdate } from '../weights/schema.ts';
import type { EnvironmentParent, GraphQLContext } from './context.ts';
import type { Decision, Prediction, Resolvers, Rollout, Stats } from './types.generated.ts';

/** A replica's own answer to a prediction it refused (a text too long, overloaded): its status, code and message kept. */
export class ReplicaRefusal extends Error {
  readonly code: string;
  constructor(
    readonly statusCode: number,
    code: string | undefined,
    message: string | undefined,
  ) {
    super(message ?? `the replica answered ${statusCode}`);
    this.code = code ?? `HTTP_${statusCode}`;
  }
}

/**
 * A subscription's refusal travels as the WebSocket's error message, which the HTTP error formatter
 * never sees: its code goes in the error itself.
 */
function withCode(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new GraphQLError((err as Error).message, { extensions: code ? { code, error: errorKind(code) } : {} });
  }
}

/** Reading needs the admin or the read-only token. */
function mayRead(ctx: GraphQLContext, field: string): void {
  if (!ctx.access) throw new UnauthorizedError(`admin or read-only token (Authorization) for ${field}`);
}

/** Changing needs the admin token. */
function mayChange(ctx: GraphQLContext, field: string): void {
  mayRead(ctx, field);
  if (ctx.access !== 'admin') throw new ReadOnlyTokenError(`mutation ${field}`);
}

const statsOf = (app: FastifyInstance, environment: string, window: number): Stats => {
  if (!(Number.isInteger(window) && window >= 1 && window <= 60)) throw new InvalidGraphQLArgumentError('window', 'a whole number of seconds from 1 to 60');
  const s = app.windows.of(environment, window);
  return { windowSeconds: window, requests: s.requests, rps: s.rps, errorRate: s.error_rate, p50Ms: s.p50_ms, p95Ms: s.p95_ms, p99Ms: s.p99_ms, meanConfidence: s.mean_confidence };
};

/** The environments as the schema has them (each one's stats resolved on demand, for the window asked). */
const environmentsOf = (app: FastifyInstance): EnvironmentParent[] =>
  environmentsView(app).map((e) => ({
    name: e.name,
    weight: e.weight,
    share: e.share,
    backup: e.backup,
    shadow: e.shadow,
    versions: e.model_versions,
    healthyReplicas: e.healthy_replicas,
    replicas: app.replicas.replicas(e.name).map((r) => ({ url: r.url, modelVersion: r.modelVersion ?? null, healthy: r.healthy, available: r.available, inFlight: r.inFlight, ejections: r.ejections })),
  }));

const rolloutOf = (v: RolloutView | null): Rollout | null =>
  v && { id: v.id, state: v.state, target: v.target, baseline: v.baseline, steps: v.steps, stepIndex: v.step_index, stepPercent: v.step_percent, phase: v.phase, message: v.message, startedAt: v.started_at, lastAnalysis: v.last_analysis };

export const decisionOf = (e: HistoryEntry): Decision => ({
  at: e.at,
  kind: e.kind,
  action: e.action,
  message: e.message,
  environment: e.environment ?? null,
  router: e.router ?? null,
  rolloutId: e.rollout_id ?? null,
  releaseId: e.release_id ?? null,
  model: e.model ?? null,
  modelVersion: e.model_version ?? null,
  weightsBefore: e.weights_before ?? null,
  weightsAfter: e.weights_after ?? null,
  checks: e.checks?.map((c) => ({ metric: c.metric, value: c.value, threshold: c.threshold, windowSeconds: c.window_seconds, sample: c.sample, passed: c.passed })) ?? null,
});

/** A cursor names the last entry of a page: its time and how many entries of that same time were on it. */
const cursorOf = (at: string, sameAt: number) => Buffer.from(JSON.stringify([at, sameAt])).toString('base64url');
function parseCursor(cursor: string): [string, number] {
  try {
    const [at, n] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'string' && Number.isInteger(n)) return [at, n as number];
  } catch {
    // falls through
  }
  throw new InvalidGraphQLArgumentError('after', 'a cursor from an earlier page (endCursor)');
}

/** A prediction through the data path, as REST /predict takes it: admitted (API key, rate limit), routed, coalesced, observed, mirrored. */
async function predictOne(ctx: GraphQLContext, text: string): Promise<Prediction> {
  const { app } = ctx;
  const id = randomUUID();
  const body = Buffer.from(JSON.stringify({ text }));
  const outcome = await app.dataPath.handle(
    {
      id,
      protocol: 'graphql',
      headers: ctx.headers,
      ip: ctx.ip,
      outgoing: () => ({ path: PREDICT_PATH, headers: { 'content-type': 'application/json', 'x-forwarded-for': ctx.ip, 'x-forwarded-proto': 'graphql', [REQUEST_ID_HEADER]: id }, body }),
      single: { text: () => text },
    },
    app.log.child({ component: 'graphql', request_id: id }),
  );
  let answer: { sentiment?: unknown; confidence?: unknown; probabilities?: unknown; code?: string; message?: string };
  try {
    answer = JSON.parse(outcome.body.toString('utf8'));
  } catch (err) {
    throw new BadGatewayError(outcome.served.name, { cause: err });
  }
  // A replica's own refusal (a text too long, …) keeps its code and message.
  if (outcome.status !== 200) throw new ReplicaRefusal(outcome.status, answer.code, answer.message);
  if (typeof answer.sentiment !== 'string' || typeof answer.confidence !== 'number') throw new BadGatewayError(outcome.served.name);
  return { sentiment: answer.sentiment, confidence: answer.confidence, probabilities: answer.probabilities ?? null, modelVersion: outcome.version, environment: outcome.served.name, requestId: id };
}

export function resolvers(options: { maxBatchTexts: number }): Resolvers {
  return {
    Query: {
      environments: (_root, _args, ctx) => {
        mayRead(ctx, 'environments');
        return environmentsOf(ctx.app);
      },
      deployments: (_root, _args, ctx) => {
        mayRead(ctx, 'deployments');
        return (ctx.app.controllerReports.deployments?.environments ?? []).map((e) => ({
          name: e.name,
          version: e.version,
          desiredReplicas: e.desired_replicas,
          readyReplicas: e.ready_replicas,
          versions: e.versions,
          update: e.update.state,
          lastError: e.last_error ? `${e.last_error.version}: ${e.last_error.reason}` : null,
        }));
      },
      models: async (_root, _args, ctx) => {
        mayRead(ctx, 'models');
        const view = await modelsView(ctx.app);
        return (view?.models ?? []).map((m) => ({ name: m.name, version: m.version, stage: m.stage, runningIn: m.running_in, metrics: m.metrics, lineage: m.lineage, moves: m.moves }));
      },
      report: (_root, args, ctx) => {
        mayRead(ctx, 'report');
        const r = ctx.app.experiment.report(args.baseline ?? undefined);
        return {
          startedAt: r.started_at,
          baseline: r.baseline,
          note: r.note,
          shadows: r.shadows,
          versions: r.versions.map((v) => ({
            environment: v.environment,
            modelVersion: v.model_version,
            requests: v.requests,
            errorRate: v.error_rate,
            p95Ms: v.p95_ms,
            meanConfidence: v.mean_confidence,
            labelDistribution: v.label_distribution,
            feedback: v.online_accuracy.feedback,
            onlineAccuracy: v.online_accuracy.accuracy,
            vsBaseline: v.vs_baseline?.decision ?? null,
            recommendation: v.recommendation.action,
            reasons: v.recommendation.reasons,
          })),
        };
      },
      rollouts: (_root, _args, ctx) => {
        mayRead(ctx, 'rollouts');
        const views = ctx.app.rollouts.views();
        return { current: rolloutOf(views.current), last: rolloutOf(views.last) };
      },
      history: async (_root, args, ctx) => {
        mayRead(ctx, 'history');
        const first = args.first ?? 20;
        if (!(Number.isInteger(first) && first >= 1 && first <= 200)) throw new InvalidGraphQLArgumentError('first', 'a whole number from 1 to 200');
        const entries = await ctx.app.history.list({ limit: 1000, kind: args.kind ?? undefined, environment: args.environment ?? undefined });
        const after = args.after ? parseCursor(args.after) : null;
        let start = 0;
        if (after) {
          // Newest first: skip everything newer than the cursor's time, and the entries of that time already given.
          start = entries.findIndex((e) => e.at <= after[0]);
          if (start < 0) start = entries.length;
          else if (entries[start].at === after[0]) start += after[1];
        }
        const page = entries.slice(start, start + first);
        const last = page.at(-1);
        const sameAt = last ? page.filter((e) => e.at === last.at).length + (after?.[0] === last.at ? after[1] : 0) : 0;
        const hasNextPage = start + first < entries.length;
        return { decisions: page.map(decisionOf), endCursor: last && hasNextPage ? cursorOf(last.at, sameAt) : null, hasNextPage };
      },
      drift: (_root, _args, ctx) => {
        mayRead(ctx, 'drift');
        return ctx.app.driftView().environments.map((e) => ({ environment: e.environment, modelVersion: e.model_version, requests: e.requests, drifted: e.drifted, tests: e.tests }));
      },
      releases: async (_root, _args, ctx) => {
        mayRead(ctx, 'releases');
        return ctx.app.registry.releases();
      },
      controller: (_root, _args, ctx) => {
        mayRead(ctx, 'controller');
        const c = ctx.app.controller.view();
        return { routerId: c.router_id, leader: c.leading };
      },
      predict: async (_root, args, ctx) => {
        await ctx.app.dataPath.admit({ headers: ctx.headers, ip: ctx.ip });
        return predictOne(ctx, args.text);
      },
      predictBatch: async (_root, args, ctx) => {
        if (args.texts.length === 0 || args.texts.length > options.maxBatchTexts) throw new InvalidGraphQLArgumentError('texts', `1 to ${options.maxBatchTexts} texts`);
        await ctx.app.dataPath.admit({ headers: ctx.headers, ip: ctx.ip });
        return Promise.all(args.texts.map((text) => predictOne(ctx, text)));
      },
    },
    Environment: {
      stats: (parent, args, ctx) => statsOf(ctx.app, parent.name, args.window ?? 60),
    },
    Mutation: {
      setWeights: async (_root, args, ctx) => {
        mayChange(ctx, 'setWeights');
        const update: WeightsUpdate = {
          weights: Object.fromEntries(args.weights.map((w) => [w.environment, w.weight])),
          ...(args.weights.some((w) => w.backup != null) ? { backup: Object.fromEntries(args.weights.filter((w) => w.backup != null).map((w) => [w.environment, w.backup!])) } : {}),
          ...(args.weights.some((w) => w.shadow != null) ? { shadow: Object.fromEntries(args.weights.filter((w) => w.shadow != null).map((w) => [w.environment, w.shadow!])) } : {}),
        };
        const error = Value.Errors(WeightsUpdate, update).First();
        if (error) throw new InvalidGraphQLArgumentError('weights', `${error.path}: ${error.message}`);
        const { app } = ctx;
        await app.weights.update(update, { cause: 'admin', running: (environment) => app.replicas.replicas(environment).length > 0 });
        await app.history.flush();
        return environmentsOf(app);
      },
      startRollout: async (_root, { input }, ctx) => {
        mayChange(ctx, 'startRollout');
        const request = {
          target: input.target,
          ...(input.baseline != null ? { baseline: input.baseline } : {}),
          ...(input.steps != null ? { steps: input.steps } : {}),
          ...(input.pauseSeconds != null ? { pause_seconds: input.pauseSeconds } : {}),
          ...(input.analysis != null ? { analysis: input.analysis } : {}),
          ...(input.keepBackup != null ? { keep_backup: input.keepBackup } : {}),
        };
        const error = Value.Errors(RolloutRequest, request).First();
        if (error) throw new InvalidGraphQLArgumentError('input', `${error.path}: ${error.message}`);
        const view = await ctx.app.rollouts.start(request as RolloutRequest);
        await ctx.app.history.flush();
        return rolloutOf(view)!;
      },
      pauseRollout: async (_root, _args, ctx) => (mayChange(ctx, 'pauseRollout'), acknowledged(ctx, ctx.app.rollouts.pause())),
      resumeRollout: async (_root, _args, ctx) => (mayChange(ctx, 'resumeRollout'), acknowledged(ctx, ctx.app.rollouts.resume())),
      abortRollout: async (_root, _args, ctx) => (mayChange(ctx, 'abortRollout'), acknowledged(ctx, ctx.app.rollouts.abort())),
      rollback: async (_root, _args, ctx) => {
        mayChange(ctx, 'rollback');
        return rollbackNow(ctx.app);
      },
      sendFeedback: async (_root, args, ctx) => {
        // The public side, as POST /feedback: the data path's API keys and rate limit.
        await ctx.app.dataPath.admit({ headers: ctx.headers, ip: ctx.ip });
        const result = await ctx.app.experiment.feedback(args.requestId, args.label);
        if (result === 'unknown') throw new PredictionNotFoundError(args.requestId);
        if (result === 'duplicate') throw new FeedbackExistsError(args.requestId);
        return { requestId: args.requestId, recorded: true };
      },
    },
    Subscription: {
      decisions: {
        subscribe: (_root, _args, ctx) => {
          withCode(() => mayRead(ctx, 'decisions'));
          return ctx.pubsub.subscribe('DECISIONS');
        },
        resolve: (payload: { decision: Decision }) => payload.decision,
      },
      stats: {
        subscribe: (_root, args, ctx) => {
          withCode(() => mayRead(ctx, 'stats'));
          withCode(() => statsOf(ctx.app, '', args.window ?? 10)); // the window checked before the first tick
          return ctx.pubsub.subscribe('STATS_TICK');
        },
        resolve: (_tick: unknown, args: { window?: number | null }, ctx: GraphQLContext) => environmentsView(ctx.app).map((e) => ({ environment: e.name, stats: statsOf(ctx.app, e.name, args.window ?? 10) })),
      },
    },
  };
}

async function acknowledged(ctx: GraphQLContext, change: Promise<RolloutView>): Promise<Rollout> {
  const view = await change;
  await ctx.app.history.flush();
  return rolloutOf(view)!;
}
