// npm start: the whole deployment on one machine, from deploy/local.yaml. Starts the router and
// one inference process per replica, registers each replica once it is ready, restarts crashed
// processes with back-off, and stops everything on Ctrl-C or SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { request } from 'undici';
import { READY_PATH } from '../../shared/api/health.ts';
import { loggerOptions, startupFailure } from '../../shared/logger.ts';
import { adminToken } from './admin-token.ts';
import { loadLauncherConfig, type LauncherConfig } from './config.ts';
import { Supervised } from './supervisor.ts';
import { planReplicas, readTopology, type Topology } from './topology.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../../..' : '../..');
const EXT = path.extname(fileURLToPath(import.meta.url));
const entry = (p: string) => (EXT === '.ts' ? ['--import', 'tsx', path.join(ROOT, `${p}.ts`)] : [path.join(ROOT, 'dist', `${p}.js`)]);

const boot = pino(loggerOptions('info', 'launcher'));
let config: LauncherConfig;
let topology: Topology;
try {
  config = loadLauncherConfig();
  topology = readTopology(path.resolve(ROOT, config.TOPOLOGY_FILE));
} catch (err) {
  boot.fatal(startupFailure(err), 'invalid configuration');
  process.exit(1);
}
const log = pino(loggerOptions(config.LOG_LEVEL, 'launcher'));
const { token, generated } = adminToken(config.ROUTER_ADMIN_TOKEN, path.join(ROOT, '.run', 'admin-token'));
const logDir = path.join(ROOT, '.run', 'logs');
fs.mkdirSync(logDir, { recursive: true });
const authHeader = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function ready(url: string): Promise<boolean> {
  const res = await request(`${url}${READY_PATH}`, { headersTimeout: 1000, bodyTimeout: 1000 });
  await res.body.dump();
  return res.statusCode === 200;
}

const routerUrl = () => {
  if (!router.url) throw new Error('the router is not listening yet');
  return router.url;
};

async function admin(method: 'POST' | 'DELETE', environment: string, url: string): Promise<void> {
  const res = await request(`${routerUrl()}/admin/replicas`, { method, headers: authHeader, body: JSON.stringify({ environment, url }) });
  const text = await res.body.text();
  if (res.statusCode >= 300 && !(method === 'DELETE' && res.statusCode === 404)) throw new Error(`${method} /admin/replicas ${res.statusCode}: ${text}`);
}

const router = new Supervised({
  name: 'router',
  logFile: path.join(logDir, 'router.log'),
  args: entry('router/src/server'),
  env: {
    ...topology.router.env,
    ROUTER_HOST: topology.router.host,
    ROUTER_PORT: String(topology.router.port),
    WEIGHTS_FILE: path.resolve(ROOT, topology.router.weights_file),
    ROUTER_ADMIN_TOKEN: token,
  },
  log,
  isReady: ready,
  // A restarted router has an empty registry: register every replica that is up again.
  onReady: async () => {
    await Promise.all(replicas.map(async (r) => r.process.url && (await ready(r.process.url).catch(() => false)) && admin('POST', r.plan.environment, r.process.url).catch(() => {})));
  },
});

const replicas = planReplicas(topology).map((plan) => {
  const name = `${plan.environment}-${plan.index}`;
  const process_ = new Supervised({
    name,
    logFile: path.join(logDir, `${name}.log`),
    args: entry('services/inference/src/server'),
    env: {
      ...topology.services.env,
      HOST: topology.services.host,
      PORT: String(plan.port),
      MODELS_DIR: path.resolve(ROOT, topology.services.models_dir),
      MODEL_NAME: plan.model,
      MODEL_VERSION: plan.version,
    },
    log,
    nice: topology.services.nice,
    isReady: ready,
    onReady: (url) => admin('POST', plan.environment, url),
    onExit: async (url) => {
      if (url) await admin('DELETE', plan.environment, url);
    },
  });
  return { plan, name, process: process_ };
});

function banner(url: string): string {
  const counts = Object.entries(topology.environments).map(([name, e]) => `${name} ${e.version} ×${e.replicas}`).join(', ');
  return [
    '',
    `  sentiment-serving is up: ${counts}`,
    '',
    `  API           ${url}/predict   (POST {"text": "..."})`,
    `  Swagger UI    ${url}/docs`,
    `  Metrics       ${url}/metrics`,
    `  Admin API     ${url}/admin/config   (Authorization: Bearer <token>)`,
    `  Logs          ${path.relative(process.cwd(), logDir) || logDir}/ (one JSON log per process)`,
    `  Admin token   ${generated ? `${token}  (generated; saved to .run/admin-token, mode 600)` : 'from ROUTER_ADMIN_TOKEN'}`,
    '',
    `  curl -s ${url}/predict -H 'content-type: application/json' -d '{"text":"a gripping , beautifully acted film"}'`,
    '',
    '  Ctrl-C stops everything.',
    '',
  ].join('\n');
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping the deployment');
  // Replicas first (the router stops sending to each as it deregisters), then the router.
  await Promise.all(replicas.map((r) => r.process.stop()));
  await router.stop();
  log.info('all processes stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

router.start();
for (const r of replicas) r.process.start();
const started = Date.now();
// Ready when the router reports, for every environment, as many healthy replicas as planned
// (the router answering and each replica registered and passing its check imply the rest).
const planned = (env: string) => topology.environments[env]?.replicas ?? 0;
const deploymentReady = async () => {
  const res = await request(`${routerUrl()}/admin/config`, { headers: authHeader });
  if (res.statusCode !== 200) return (await res.body.dump(), false);
  const view = (await res.body.json()) as { environments: { name: string; healthy_replicas: number }[] };
  return view.environments.every((e) => e.healthy_replicas === planned(e.name));
};
const waitAll = async () => {
  while (!stopping && !(await deploymentReady().catch(() => false))) {
    if (Date.now() - started > 120_000) {
      log.error('the deployment did not become ready within 120 s');
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (stopping || !router.url) return;
  process.stdout.write(banner(router.url));
  log.info({ launcher: process.pid, router: { pid: router.pid, url: router.url }, replicas: replicas.map((r) => ({ name: r.name, pid: r.process.pid, url: r.process.url })) }, 'deployment ready');
};
void waitAll();
