// Several router processes in front of the same real replicas, sharing one store: what the
// several-routers tests (deployment and reliability) start, and the admin calls they make.
import type { Test } from 'tap';
import path from 'node:path';
import { request } from 'undici';
import { ROOT, startProcess, type RunningProcess } from '../../testkit/processes.ts';
import { ADMIN_TOKEN, until, weightsFile } from './router.ts';

export interface ControllerView {
  router_id: string;
  leader: string | null;
  leading: boolean;
  fencing_token: number | null;
  paused_reason: string | null;
  routers: string[];
}
export interface ConfigView {
  generation: number;
  weights_kept_in: string;
  environments: { name: string; weight: number; healthy_replicas: number; replicas: number }[];
  controller: ControllerView;
}
export interface RolloutView {
  id: string;
  state: string;
  step_index: number;
  message: string;
}
export interface RolloutsView {
  current: RolloutView | null;
  last: RolloutView | null;
  controller: ControllerView;
}
export interface HistoryEntry {
  kind: string;
  action: string;
  router?: string;
  weights_after?: Record<string, number>;
}

export interface Router {
  id: string;
  url: string;
  proc: RunningProcess;
}

export async function admin<T>(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await request(`${base}${url}`, { method: method as 'GET', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

export const configs = (rs: Router[]) => Promise.all(rs.map(async (r) => (await admin<ConfigView>(r.url, 'GET', '/admin/config')).body));
export const rolloutViews = (rs: Router[]) => Promise.all(rs.map(async (r) => (await admin<RolloutsView>(r.url, 'GET', '/admin/rollouts')).body));
export const weightsIn = (c: ConfigView) => Object.fromEntries(c.environments.map((e) => [e.name, e.weight]));

/** Real replicas of three versions, one per environment: blue 1.0.0, green 1.1.0, canary 1.2.0. */
export async function threeReplicas(t: Test): Promise<Record<string, string>> {
  const versions = { blue: '1.0.0', green: '1.1.0', canary: '1.2.0' };
  const urls: Record<string, string> = {};
  await Promise.all(
    Object.entries(versions).map(async ([environment, version]) => {
      const replica = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: version, INFERENCE_WORKERS: '0' });
      t.teardown(() => replica.stop('SIGKILL'));
      urls[environment] = replica.url;
    }),
  );
  return urls;
}

/**
 * Three routers (router-1..3) on one store under their own key prefix, weights 70/25/5 with sticky
 * users by X-User-Id; resolves once each routes to every replica and all agree on one controller.
 */
export async function startRouters(t: Test, o: { store: string; replicas: Record<string, string>; prefix: string }): Promise<Router[]> {
  const r = o.replicas;
  const file = await weightsFile(t, `environments:\n  blue: { weight: 70, replicas: [${r.blue}] }\n  green: { weight: 25, replicas: [${r.green}] }\n  canary: { weight: 5, replicas: [${r.canary}] }\nassignment: { header: X-User-Id }\n`);
  const started = await Promise.all(
    ['router-1', 'router-2', 'router-3'].map(async (id) => {
      const proc = await startProcess(
        {
          ROUTER_WEIGHTS_FILE: file,
          ROUTER_ADMIN_TOKEN: ADMIN_TOKEN,
          ROUTER_HOST: '127.0.0.1',
          ROUTER_PORT: '0',
          ROUTER_GRPC_PORT: '0',
          ROUTER_STATE_STORE_URL: o.store,
          ROUTER_STATE_STORE_KEY_PREFIX: o.prefix,
          ROUTER_STATE_STORE_ROUTER_ID: id,
          ROUTER_HEALTH_INTERVAL_MS: '100',
          ROUTER_RATE_LIMIT_MAX: '0',
          ROUTER_GUARD_MODE: 'off',
        },
        path.join(ROOT, 'router/src/server.ts'),
      );
      t.teardown(() => proc.stop('SIGKILL'));
      return { id, url: proc.url, proc };
    }),
  );
  await until(async () => {
    const views = await configs(started);
    return views.every((v) => v.environments.every((e) => e.healthy_replicas === 1) && v.controller.leader !== null && v.controller.leader === views[0].controller.leader);
  }, 30_000);
  return started;
}
