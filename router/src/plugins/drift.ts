// Drift as a plugin: `app.driftView()` tests each environment and version's window (drift/monitor.ts)
// against its bundle's reference, read from its replicas' /info, and against the control arm (the
// heaviest weighted environment); the same view feeds GET /admin/drift, the A/B report, the
// dashboard and the model_drift_* metrics.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { DriftView } from '../drift/schema.ts';

declare module 'fastify' {
  interface FastifyInstance {
    driftView: () => DriftView;
  }
}

const drift: FastifyPluginAsync = async (app) => {
  const view = (): DriftView => {
    const weighted = app.weights.snapshot.environments.filter((e) => !e.backup && e.weight > 0).sort((a, b) => b.weight - a.weight);
    const reference = (environment: string, version: string) => app.replicas.all().find((r) => r.environment === environment && r.modelVersion === version && r.driftReference)?.driftReference ?? null;
    return app.drift.evaluate(reference, weighted[0]?.name ?? null);
  };
  app.decorate('driftView', view);

  // One evaluation per scrape, shared by the three gauges.
  let scraped: { at: number; view: DriftView } | null = null;
  const current = () => {
    if (!scraped || Date.now() - scraped.at > 1000) scraped = { at: Date.now(), view: view() };
    return scraped.view;
  };
  const registers = [app.metricsRegistry];
  new Gauge({
    name: 'model_drift_detected',
    help: 'Whether the environment and version drifted: a test of its last predictions (against its bundle reference or the control arm) below its threshold, 1 or 0; absent before the window holds drift.min_requests',
    labelNames: ['environment', 'model_version'],
    registers,
    collect() {
      this.reset();
      for (const e of current().environments) if (e.tests.length) this.set({ environment: e.environment, model_version: e.model_version }, e.drifted ? 1 : 0);
    },
  });
  const perTest = (name: string, help: string, value: (t: DriftView['environments'][number]['tests'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['environment', 'model_version', 'test', 'against'],
      registers,
      collect() {
        this.reset();
        for (const e of current().environments) for (const t of e.tests) this.set({ environment: e.environment, model_version: e.model_version, test: t.name, against: t.against }, value(t));
      },
    });
  perTest('model_drift_p_value', 'Each drift test of the environment and version: its p-value (drift below model_drift_threshold)', (t) => t.p_value);
  perTest('model_drift_threshold', "Each drift test's threshold: drift.alpha divided by the environment's number of tests", (t) => t.threshold);
  perTest('model_drift_statistic', "Each drift test's statistic: chi-squared, the KS distance D, or the ratio of unknown-piece rates", (t) => t.statistic);
};

export const driftPlugin = fp(drift, { name: 'drift', dependencies: ['proxy', 'replicas', 'weights'] });
