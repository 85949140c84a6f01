// The weights file as a plugin: `app.weights` holds the last good snapshot, watches the file, and
// stops watching when the app closes. An invalid file at start-up fails build() with the field.
// With a state store the weights in force are the routers' shared live state over the file.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { createWeightsMetrics } from '../metrics.ts';
import { WeightsStore } from '../weights/store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    weights: WeightsStore;
  }
}

const weights: FastifyPluginAsync<{ file: string }> = async (app, { file }) => {
  const shared = app.control && { control: app.control, leadership: app.controller, routerId: app.controller.view().router_id };
  const store = await WeightsStore.open(file, (app.log as Logger).child({ component: 'weights' }), shared);
  const reloads = createWeightsMetrics(app.metricsRegistry, store);
  store.onReload((ok) => reloads.inc({ result: ok ? 'success' : 'failure' }));
  store.watch();
  app.decorate('weights', store);
  app.addHook('preClose', async () => store.close());
};

export const weightsPlugin = fp(weights, { name: 'weights', dependencies: ['metrics', 'state-store'] });
