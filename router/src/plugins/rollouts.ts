// Progressive delivery as a plugin: `app.rollouts` (steps, analysis, rollback) and the standing
// guard, both over the weights store, the stats windows and the decision trail. With a state store
// the rollouts are kept there and only the elected controller runs steps and the guard.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config.ts';
import type { BanditArm } from '../rollouts/bandit-schema.ts';
import { Guard } from '../rollouts/guard.ts';
import { FileKeeper, StoreKeeper } from '../rollouts/keeper.ts';
import type { DriftVerdict } from '../rollouts/analysis.ts';
import { RolloutManager } from '../rollouts/manager.ts';

declare module 'fastify' {
  interface FastifyInstance {
    rollouts: RolloutManager;
  }
}

const rollouts: FastifyPluginAsync<Pick<RouterConfig, 'guard' | 'rolloutsFile'>> = async (app, { guard: options, rolloutsFile }) => {
  const log = (app.log as Logger).child({ component: 'rollouts' });
  const feedback = { of: (environment: string) => app.experiment.feedbackOf(environment), seconds: () => app.experiment.ageSeconds };
  const leadership = app.controller;
  const keeper = app.control ? new StoreKeeper(app.control, app.weights, leadership) : new FileKeeper(app.weights, rolloutsFile);
  const drift = (environment: string): DriftVerdict | null => {
    const tested = app.driftView().environments.filter((e) => e.environment === environment && e.tests.length).sort((a, b) => b.requests - a.requests)[0];
    if (!tested) return null;
    // The failing test, or the one closest to failing.
    const test = [...tested.tests].sort((a, b) => a.p_value / a.threshold - b.p_value / b.threshold)[0];
    return { drifted: tested.drifted, requests: tested.requests, test: { name: test.name, against: test.against, p_value: test.p_value, threshold: test.threshold } };
  };
  const manager = new RolloutManager({ drift, weights: app.weights, stats: app.windows, available: (environment) => app.replicas.isAvailable(environment), feedback, record: app.history.record, log, keeper, leadership });
  await manager.open();
  const guard = new Guard(options, { weights: app.weights, leadership, stats: app.windows, record: app.history.record, exempt: (environment) => manager.involves(environment), log: log.child({ component: 'guard' }) });
  guard.start();
  // The bandit's last update, per arm, as every router knows it (the kept state).
  const armGauge = (name: string, help: string, value: (arm: BanditArm) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['environment'],
      registers: [app.metricsRegistry],
      collect() {
        this.reset();
        for (const arm of manager.bandit.view()?.last_update?.arms ?? []) this.set({ environment: arm.environment }, value(arm));
      },
    });
  armGauge('router_bandit_p_best', "The bandit's last update: each arm's chance of being the most accurate (0 to 1)", (arm) => arm.p_best);
  armGauge('router_bandit_posterior_mean', "The bandit's last update: each arm's posterior mean accuracy from feedback since the bandit started (0 to 1)", (arm) => arm.posterior_mean);
  app.decorate('rollouts', manager);
  app.addHook('preClose', async () => {
    guard.stop();
    manager.close();
  });
};

export const rolloutsPlugin = fp(rollouts, { name: 'rollouts', dependencies: ['weights', 'history', 'proxy', 'drift'] });
