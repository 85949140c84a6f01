// The shared state store as a plugin: `app.stateStore` is the connection to the Redis several
// routers share (ROUTER_STATE_STORE_URL), with its metrics, closed with the app; `app.control`
// holds the control state in it (weights in force, rollouts) and `app.controller` says whether
// this router is the elected controller. Without a store (embedded) the router keeps its state to
// itself and is its own controller.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { RouterConfig } from '../config.ts';
import { ControlState } from '../state/control-state.ts';
import { LeaderLease, soleController, type Leadership } from '../state/leader.ts';
import { redacted, StateStore } from '../state/store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    stateStore: StateStore | null;
    control: ControlState | null;
    controller: Leadership;
  }
}

const state: FastifyPluginAsync<Pick<RouterConfig, 'stateStore'>> = async (app, { stateStore: config }) => {
  // Unique among routers on one host, and among apps in one process (tests run several).
  const routerId = config?.routerId ?? `${os.hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const log = app.log as Logger;
  const registers = [app.metricsRegistry];
  const leading = new Gauge({ name: 'router_controller_leader', help: 'Whether this router is the elected controller that runs rollouts and the guard: 1 or 0 (always 1 without a state store)', registers });
  if (!config) {
    app.decorate('stateStore', null);
    app.decorate('control', null);
    app.decorate('controller', soleController(routerId));
    leading.set(1);
    return;
  }
  const store = await StateStore.open(config.url, config.prefix, log.child({ component: 'state-store', url: redacted(config.url) }), {
    up: new Gauge({ name: 'router_state_store_up', help: 'Whether the shared state store (ROUTER_STATE_STORE_URL) is connected: 1 or 0; absent when the router runs embedded', registers }),
    failures: new Counter({ name: 'router_state_store_failures_total', help: 'State store operations that failed, or were skipped while it was down, by operation (rate_limit: a request let through uncounted; remember_prediction: an answer feedback sent elsewhere cannot find; feedback: answered 503; report_flush: the report sums flushed later; leader_lease: the election not held; history: entries waiting to be sent; stats_windows: a second of the shared windows not flushed or read)', labelNames: ['operation'], registers }),
  });
  const lease = new LeaderLease(store, routerId, log.child({ component: 'controller' }));
  const control = new ControlState(store, lease.tokenKey, log.child({ component: 'control-state' }));
  lease.onChange((on) => leading.set(on ? 1 : 0));
  leading.set(0);
  control.start();
  await lease.start();
  app.decorate('stateStore', store);
  app.decorate('control', control);
  app.decorate('controller', lease);
  // The lease is handed over first, so that another router takes over at once, not after it runs out.
  app.addHook('preClose', async () => lease.stop());
  app.addHook('onClose', async () => {
    await control.stop();
    await store.close();
  });
};

export const statePlugin = fp(state, { name: 'state-store', dependencies: ['metrics'] });
