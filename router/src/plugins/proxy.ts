// The data path as a plugin: its core (data-path/core.ts: decide → send → observe → mirror) built
// from the router's parts, the proxied HTTP routes on it (data-path/http-adapter.ts) and POST
// /feedback, behind the rate limit and API keys. `app.dataPath` is the core with the same
// admission for other ways in (the gRPC listener); `app.stats` (sliding windows), `app.windows` (every router's, with a store) and
// `app.experiment` (the A/B report's counts and feedback) are what the admin API, rollouts and the
// guard read.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { API_KEY_HEADER } from '../../../shared/api/headers.ts';
import { RateLimitedError, UnauthorizedError } from '../../../shared/errors.ts';
import { hasBearerToken } from '../../../shared/http/secrets.ts';
import { isWarmUp } from '../../../shared/http/warm-up.ts';
import { apiKeyAllowed, loadApiKeys } from '../auth.ts';
import type { RouterConfig } from '../config.ts';
import { createCoalescerGauge, createConfidenceGauge, createEventLoopGauge, createRouterMetrics } from '../metrics.ts';
import { createDataPath, type DataPath } from '../data-path/core.ts';
import { createDecide } from '../data-path/decide.ts';
import { httpAdapter } from '../data-path/http-adapter.ts';
import { createEnvironmentCall } from '../proxy/call.ts';
import { Coalescer } from '../proxy/coalescer.ts';
import { EventLoopLoad } from '../proxy/event-loop-load.ts';
import { documentationOnly, PROXIED_ROUTES } from '../proxy/routes.ts';
import { createObserver } from '../proxy/observe.ts';
import { RetryBudget } from '../proxy/retry-budget.ts';
import { HedgePolicy } from '../proxy/hedge.ts';
import { Shadow } from '../experiments/shadow.ts';
import { StatsWindows, type WindowsView } from '../stats/windows.ts';
import { SharedWindows } from '../state/shared-windows.ts';
import { DriftMonitor } from '../drift/monitor.ts';
import { Experiment } from '../experiments/experiment.ts';
import { FeedbackLog } from '../experiments/feedback-log.ts';
import { feedbackRoutes } from '../experiments/feedback-route.ts';
import { RecentPredictions } from '../experiments/recent-predictions.ts';
import { sharedRateLimitStore } from '../state/rate-limit-store.ts';
import { SharedFeedback } from '../state/shared-feedback.ts';
import { SharedReport } from '../state/shared-report.ts';

/** The core, and the public routes' admission for another way in (the gRPC listener). */
export interface AdmittedDataPath extends DataPath {
  /** API key and rate limit, as on the public HTTP routes; throws the same errors. */
  admit: (request: Pick<FastifyRequest, 'headers' | 'ip'>) => Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This router's sliding windows (its metrics). */
    stats: StatsWindows;
    /** The windows traffic is judged on: every router's with a state store, else this router's. */
    windows: WindowsView;
    experiment: Experiment;
    /** Each environment and version's recent predictions, for drift tests (plugins/drift.ts). */
    drift: DriftMonitor;
    dataPath: AdmittedDataPath;
  }
}

export type ProxyOptions = Pick<RouterConfig, 'adminToken' | 'overrideAllow' | 'retry' | 'hedge' | 'replicaMaxInFlight' | 'coalesce' | 'rateLimit' | 'apiKeys' | 'feedback' | 'shadowMaxInFlight' | 'drift'>;

const apiKeyOf = (request: Pick<FastifyRequest, 'headers'>) => {
  const key = request.headers[API_KEY_HEADER];
  return typeof key === 'string' ? key : undefined;
};

const proxy: FastifyPluginAsync<ProxyOptions> = async (app, config) => {
  const { weights, replicas, health, routingPolicy: routing } = app;
  const metrics = createRouterMetrics(app.metricsRegistry);
  const stats = new StatsWindows();
  const store = app.stateStore;
  const shared = store && config.feedback.memory > 0 ? new SharedFeedback(store, config.feedback.ttlMs) : undefined;
  const sharedReport = store ? new SharedReport(store) : undefined;
  const sharedWindows = store ? new SharedWindows(store, stats) : undefined;
  shared?.start();
  sharedReport?.start();
  sharedWindows?.start();
  // What this router answered last is flushed before it goes.
  app.addHook('onClose', async () => {
    shared?.stop();
    sharedWindows?.stop();
    await sharedReport?.stop();
  });
  const drift = new DriftMonitor(config.drift);
  const experiment = new Experiment(new RecentPredictions(config.feedback.memory, config.feedback.ttlMs), await FeedbackLog.open(config.feedback.file, (app.log as Logger).child({ component: 'feedback' })), shared, sharedReport);
  createConfidenceGauge(app.metricsRegistry, stats);
  const load = new EventLoopLoad();
  app.addHook('onClose', async () => load.close());
  createEventLoopGauge(app.metricsRegistry, load);
  const budget = new RetryBudget(config.retry.ratio, config.retry.minPerSecond);
  const call = createEnvironmentCall({
    routing,
    replicas,
    health,
    budget,
    hedge: new HedgePolicy(config.hedge),
    replicaMaxInFlight: config.replicaMaxInFlight,
    onShed: (environment) => metrics.shed.inc({ environment }),
    onRetry: (environment, reason) => metrics.retries.inc({ environment, reason }),
    onHedge: (environment) => metrics.hedges.inc({ environment }),
  });
  const coalescer =
    config.coalesce.maxBatch > 0
      ? new Coalescer(
          config.coalesce,
          () => weights.snapshot,
          replicas,
          call,
          (app.log as Logger).child({ component: 'coalescer' }),
          (environment, size, { overflow, spaced, eager }) => {
            metrics.coalescedBatch.observe({ environment }, size);
            if (overflow) metrics.coalescedOverflow.inc({ environment });
            if (spaced) metrics.coalescedSpaced.inc({ environment });
            if (eager) metrics.coalescedLight.inc({ environment });
          },
          () => load.utilization,
        )
      : undefined;
  createCoalescerGauge(app.metricsRegistry, () => coalescer?.held ?? 0);
  const shadow = new Shadow(() => weights.snapshot, call, config.shadowMaxInFlight, {
    compared: (c) => {
      metrics.shadowRequests.inc({ environment: c.environment, result: 'compared' });
      if (c.agree !== null) metrics.shadowAgreement.inc({ environment: c.environment, agree: String(c.agree) });
      experiment.shadowCompared(c);
    },
    failed: (environment, version) => {
      metrics.shadowRequests.inc({ environment, result: 'failed' });
      experiment.shadowFailed(environment, version);
    },
    dropped: (environment, version) => {
      metrics.shadowRequests.inc({ environment, result: 'dropped' });
      experiment.shadowDropped(environment, version);
    },
  }, (app.log as Logger).child({ component: 'shadow' }), (environment) => {
    const versions = replicas.versions(environment);
    return versions.length === 1 ? versions[0] : '';
  });
  const decide = createDecide({
    routing,
    weights: () => weights.snapshot,
    mayOverride: (request) => config.overrideAllow.includes(request.ip) || hasBearerToken(request.headers.authorization, config.adminToken),
    onFailover: (environment) => metrics.failovers.inc({ environment }),
    versions: (environment) => replicas.versions(environment),
  });
  const core = createDataPath({ decide, call, budget, coalescer, shadow, observer: createObserver(metrics, stats, experiment, drift) });
  app.decorate('stats', stats);
  app.decorate<WindowsView>('windows', sharedWindows ?? stats);
  app.decorate('experiment', experiment);
  app.decorate('drift', drift);

  const apiKeys = loadApiKeys(config.apiKeys);
  let limiter: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  app.decorate('dataPath', {
    ...core,
    async admit(request) {
      if (apiKeys && !apiKeyAllowed(apiKeys, apiKeyOf(request))) throw new UnauthorizedError('X-API-Key header');
      // The same limiter (and store) as the HTTP routes: a client's calls count once, whichever way in.
      const verdict = limiter && (await limiter({ ...request, routeOptions: { config: {} } } as unknown as FastifyRequest));
      if (verdict && !verdict.isAllowed && verdict.isExceeded) throw new RateLimitedError(verdict.max, `${config.rateLimit.windowMs / 1000} s`);
    },
  } satisfies AdmittedDataPath);
  // The public routes: rate-limited per API key or client address, and behind API keys when set.
  await app.register(async (scope) => {
    if (config.rateLimit.max > 0) {
      await scope.register(rateLimit, {
        max: config.rateLimit.max,
        timeWindow: config.rateLimit.windowMs,
        keyGenerator: (request) => (apiKeyOf(request) !== undefined ? `key:${apiKeyOf(request)}` : `ip:${request.ip}`),
        // The router's own warm-up requests (warm-up.ts) use no client's allowance.
        allowList: (request) => isWarmUp(request.raw),
        // Only a limited client needs to hear about the limit: three extra headers on every
        // response cost more than the counting itself.
        addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
        addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
        errorResponseBuilder: (_request, context) => new RateLimitedError(context.max ?? 0, context.after),
        // With several routers the counters are shared, so N routers let a client through as one.
        ...(store ? { store: sharedRateLimitStore(store) } : {}),
      });
      limiter = scope.createRateLimit();
    }
    if (apiKeys) {
      scope.addHook('onRequest', (request, _reply, done) => done(isWarmUp(request.raw) || apiKeyAllowed(apiKeys, apiKeyOf(request)) ? undefined : new UnauthorizedError('X-API-Key header')));
    }
    await scope.register(async (proxied) => {
      // Bodies are forwarded as bytes, never parsed and re-serialized.
      proxied.removeAllContentTypeParsers();
      proxied.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      const forward = httpAdapter(core);
      for (const route of PROXIED_ROUTES) proxied.route({ ...route, validatorCompiler: documentationOnly, handler: forward });
    });
    await scope.register(feedbackRoutes, { experiment });
  });
};

export const proxyPlugin = fp(proxy, { name: 'proxy', dependencies: ['metrics', 'weights', 'replicas', 'routing-policy', 'state-store'] });
