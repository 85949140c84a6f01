// The shared state store as a plugin: `app.stateStore` is the connection to the Redis several
// routers share (ROUTER_STATE_STORE_URL), with its metrics, closed with the app; null when the
// router runs embedded (its state to itself).
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { RouterConfig } from '../config.ts';
import { redacted, StateStore } from '../state/store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    stateStore: StateStore | null;
  }
}

const state: FastifyPluginAsync<Pick<RouterConfig, 'stateStore'>> = async (app, { stateStore: config }) => {
  if (!config) {
    app.decorate('stateStore', null);
    return;
  }
  const registers = [app.metricsRegistry];
  const store = await StateStore.open(config.url, config.prefix, (app.log as Logger).child({ component: 'state-store', url: redacted(config.url) }), {
    up: new Gauge({ name: 'router_state_store_up', help: 'Whether the shared state store (ROUTER_STATE_STORE_URL) is connected: 1 or 0; absent when the router runs embedded', registers }),
    failures: new Counter({ name: 'router_state_store_failures_total', help: 'State store operations that failed, or were skipped while it was down, by operation (rate_limit: a request let through uncounted; remember_prediction: an answer feedback sent elsewhere cannot find; feedback: answered 503; report_flush: the report sums flushed later)', labelNames: ['operation'], registers }),
  });
  app.decorate('stateStore', store);
  app.addHook('onClose', async () => store.close());
};

export const statePlugin = fp(state, { name: 'state-store', dependencies: ['metrics'] });
