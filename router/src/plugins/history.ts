// The decision trail as a plugin: `app.history`, fed by every weights change (with its cause) and
// by rollouts, analyses and guards; each entry is also a log line and counted in
// router_decisions_total{kind, action}. With a state store the trail is the routers' shared one,
// and a change another router made is recorded by that router, not again here.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { FileHistory, SharedHistory, type History } from '../history/history.ts';
import type { HistoryEntry } from '../history/schema.ts';
import { weightsOf } from '../weights/store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    history: Pick<History, 'record' | 'list' | 'flush'> & {
      /** Calls `listener` with every entry this router records (GraphQL's decisions subscription). */
      onRecord(listener: (entry: HistoryEntry) => void): void;
    };
  }
}

const describeWeights = (before: Record<string, number>, after: Record<string, number>) =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((name) => before[name] !== after[name])
    .map((name) => `${name} ${before[name] ?? '-'} → ${after[name] ?? '-'}`)
    .join(', ') || 'no weight changed';

const history: FastifyPluginAsync<{ file?: string }> = async (app, { file }) => {
  const log = (app.log as Logger).child({ component: 'history' });
  const trail: History = app.stateStore ? new SharedHistory(app.stateStore, log) : await FileHistory.open(file, log);
  const decisions = new Counter({ name: 'router_decisions_total', help: 'Entries of the decision trail: weight changes by cause, rollout steps, analyses and guard actions', labelNames: ['kind', 'action'], registers: [app.metricsRegistry] });
  // With several routers, each entry says which one made it.
  const router = app.stateStore ? { router: app.controller.view().router_id } : {};
  const listeners: ((entry: HistoryEntry) => void)[] = [];
  const record = (entry: Omit<HistoryEntry, 'at'>) => {
    const full = trail.record({ ...entry, ...router });
    decisions.inc({ kind: entry.kind, action: entry.action });
    log.info({ ...full }, entry.message);
    for (const listener of listeners) listener(full);
    return full;
  };
  app.weights.onChange(({ cause, before, after, detail, remote }) => {
    if (remote) return;
    const [b, a] = [weightsOf(before), weightsOf(after)];
    const message = typeof detail?.message === 'string' ? detail.message : `weights changed (${cause.replace('_', ' ')}): ${describeWeights(b, a)}`;
    record({ kind: 'weights', action: cause, message, weights_before: b, weights_after: a, ...(typeof detail?.rollout_id === 'string' ? { rollout_id: detail.rollout_id } : {}) });
  });
  app.decorate('history', { record, list: (o) => trail.list(o), flush: () => trail.flush(), onRecord: (listener) => void listeners.push(listener) });
  app.addHook('onClose', async () => trail.close());
};

export const historyPlugin = fp(history, { name: 'history', dependencies: ['metrics', 'weights', 'state-store'] });
