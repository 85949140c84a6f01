// Progressive delivery as a plugin: `app.rollouts` (steps, analysis, rollback) and the standing
// guard, both over the weights store, the stats windows and the decision trail. With a state store
// the rollouts are kept there and only the elected controller runs steps and the guard.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config.ts';
import { Guard } from '../rollouts/guard.ts';
import { FileKeeper, StoreKeeper } from '../rollouts/keeper.ts';
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
  const manager = new RolloutManager({ weights: app.weights, stats: app.windows, available: (environment) => app.replicas.isAvailable(environment), feedback, record: app.history.record, log, keeper, leadership });
  await manager.open();
  const guard = new Guard(options, { weights: app.weights, leadership, stats: app.windows, record: app.history.record, exempt: (environment) => manager.involves(environment), log: log.child({ component: 'guard' }) });
  guard.start();
  app.decorate('rollouts', manager);
  app.addHook('preClose', async () => {
    guard.stop();
    manager.close();
  });
};

export const rolloutsPlugin = fp(rollouts, { name: 'rollouts', dependencies: ['weights', 'history', 'proxy'] });
