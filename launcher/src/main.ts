// npm start: the whole deployment on one machine, run and kept as deploy/local.yaml says. Starts the
// router, or several sharing a store (each restarted with back-off if it dies), and the deployment controller, which starts, updates,
// scales and replaces replicas as the file changes, and reports to the router's admin API. Every
// process it starts ends with it; Ctrl-C or SIGTERM stops replicas (drained) and then the router.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { LIVE_PATH } from '../../shared/api/health.ts';
import { WatchedFile } from '../../shared/config-file/watched-file.ts';
import { loggerOptions, startupFailure } from '../../shared/logger.ts';
import { bundleDir } from '../../shared/bundle/layout.ts';
import { readPublicKey, verifyBundle } from '../../shared/bundle/manifest.ts';
import { adminToken } from './admin-token.ts';
import { Autoscaler } from './autoscaler.ts';
import { loadLauncherConfig, type LauncherConfig } from './config.ts';
import { Controller } from './controller.ts';
import { entryArgs, ROOT } from './paths.ts';
import { AUTOSCALING_DEFAULTS, parseDeployment, type Deployment } from './deployment.ts';
import { scanModels } from './models.ts';
import { firstTaken, PortAllocator } from './ports.ts';
import { answersReady } from './replica.ts';
import { LocalRedis, REDIS_SERVER } from './local-redis.ts';
import { RouterClient, RouterFanout } from './router-client.ts';
import { writeScrapeTargets } from './scrape-targets.ts';
import { ADMIN_TOKEN_FILE, CONTROLLER_FILE, LOG_DIR, type ControllerFile } from './run-dir.ts';
import { Supervised } from './supervisor.ts';


const boot = pino(loggerOptions('info', 'launcher'));
let config: LauncherConfig;
let source: WatchedFile<Deployment>;
try {
  config = loadLauncherConfig();
  source = await WatchedFile.open(path.resolve(ROOT, config.DEPLOYMENT_FILE), parseDeployment, boot.child({ component: 'deployment' }));
} catch (err) {
  boot.fatal(startupFailure(err), 'invalid configuration');
  process.exit(1);
}
const log = pino(loggerOptions(config.LOG_LEVEL, 'launcher'));
const initial = source.value;

// Routers: one by default; with router.instances, each on port + 2i and grpc_port + 2i, sharing a
// state store (the one deploy/local.yaml names, or a redis-server started here).
const instances = initial.router.instances ?? 1;
const routerPort = (i: number) => (initial.router.port ? initial.router.port + 2 * i : 0);
const routerGrpcPort = (i: number) => (initial.router.grpc_port ? initial.router.grpc_port + 2 * i : 0);
if (instances > 1 && !initial.router.state_store && !REDIS_SERVER) {
  process.stderr.write(`npm start: router.instances ${instances} needs a store the routers share: apt-get install redis-server (or name one in router.state_store)\n`);
  process.exit(1);
}

// Refuse to start over ports something else holds (an earlier deployment, another program).
const replicaCount = Object.values(initial.environments).reduce((n, e) => n + e.replicas, 0);
const firstPort = initial.services.first_port ?? 0;
const routerPorts = Array.from({ length: instances }, (_, i) => [routerPort(i), routerGrpcPort(i)]).flat();
const taken = await firstTaken(initial.router.host, [...routerPorts, ...Array.from({ length: firstPort ? replicaCount : 0 }, (_, i) => firstPort + i)]);
if (taken) {
  process.stderr.write(`npm start: ${taken}; stop it, or change the ports in ${config.DEPLOYMENT_FILE}\n`);
  process.exit(1);
}

const runDir = path.resolve(ROOT, config.RUN_DIR);
const logDir = path.join(runDir, LOG_DIR);
fs.mkdirSync(logDir, { recursive: true });
const tokenFile = path.join(runDir, ADMIN_TOKEN_FILE);
const { token, generated } = adminToken(config.ROUTER_ADMIN_TOKEN, tokenFile);

const localRedis = instances > 1 && !initial.router.state_store ? await LocalRedis.start(path.join(runDir, 'redis'), initial.router.host, log.child({ component: 'state-store' })) : undefined;
const stateStoreUrl = initial.router.state_store ?? localRedis?.url;

const routers = Array.from({ length: instances }, (_, i) => {
  const name = instances > 1 ? `router-${i + 1}` : 'router';
  // Each router's own files (with a store they are not used: what is shared goes through it).
  const own = (file: string) => path.join(runDir, instances > 1 ? file.replace('.', `-${i + 1}.`) : file);
  return new Supervised({
    name,
    logFile: path.join(logDir, `${name}.log`),
    args: entryArgs('router/src/server'),
    env: {
      ...initial.router.env,
      ROUTER_HOST: initial.router.host,
      ROUTER_PORT: String(routerPort(i)),
      ROUTER_GRPC_PORT: String(routerGrpcPort(i)),
      ...(initial.router.config_file ? { ROUTER_CONFIG_FILE: path.resolve(ROOT, initial.router.config_file) } : {}),
      ...(stateStoreUrl ? { ROUTER_STATE_STORE_URL: stateStoreUrl, ROUTER_STATE_STORE_ROUTER_ID: name } : {}),
      ROUTER_WEIGHTS_FILE: path.resolve(ROOT, initial.router.weights_file),
      ROUTER_HISTORY_FILE: own('history.jsonl'),
      ROUTER_FEEDBACK_FILE: own('feedback.jsonl'),
      ROUTER_ROLLOUTS_FILE: own('rollouts.json'),
      ROUTER_REGISTRY_FILE: own('registry.json'),
      ROUTER_ADMIN_TOKEN: token,
    },
    log,
    // Live is enough for the replicas to be registered again: its readiness waits for them (the
    // warm-up, router.yaml's warm_up).
    isReady: (url) => answersReady(url, LIVE_PATH),
    // A restarted router comes back where clients know it, even when the ports were picked for it.
    restartEnv: (url, grpc) => ({ ROUTER_PORT: new URL(url).port, ...(grpc ? { ROUTER_GRPC_PORT: grpc.slice(grpc.lastIndexOf(':') + 1) } : {}) }),
    // A restarted router has an empty registry and no reports: tell it everything again.
    onReady: async () => {
      writeControllerFile();
      await controller.reregisterAll();
      await reportModels(true);
    },
  });
});
const router = routers[0];
const routerUrls = () => routers.map((r) => r.url).filter((url): url is string => url !== undefined);
function writeControllerFile(): void {
  if (!router.url) return;
  const file: ControllerFile = { pid: process.pid, router_url: router.url, router_urls: routerUrls(), deployment_file: source.file };
  fs.writeFileSync(path.join(runDir, CONTROLLER_FILE), `${JSON.stringify(file, null, 2)}\n`);
}
const routerClient = new RouterFanout(routers.map((r) => ({ client: new RouterClient(() => r.url, token), listening: () => r.url !== undefined })));

const modelsDir = path.resolve(ROOT, initial.services.models_dir);
const ports = new PortAllocator(initial.services.host, initial.services.first_port);
const controller = new Controller({
  source,
  router: routerClient,
  log,
  replicaProcess: (environment, template, id) => async () => {
    const port = await ports.take();
    return {
      args: entryArgs('services/inference/src/server'),
      logFile: path.join(logDir, `${id}.log`),
      env: {
        ...initial.services.env,
        ...template.env,
        HOST: initial.services.host,
        PORT: String(port),
        // Each replica's own gRPC service takes a free port (in the log and the 'deployment ready'
        // line); clients use the router's.
        GRPC_PORT: '0',
        MODELS_DIR: modelsDir,
        MODEL_NAME: template.model,
        MODEL_VERSION: template.version,
      },
      nice: initial.services.nice,
      onExit: () => ports.release(port),
    };
  },
  // What the replicas will check before loading, checked first here: a refused bundle starts nothing.
  checkBundle: (template) => {
    const env: Record<string, string | undefined> = { ...initial.services.env, ...template.env };
    const publicKeyFile = env.BUNDLE_PUBLIC_KEY_FILE;
    verifyBundle(bundleDir(modelsDir, template.model, template.version), { requireManifest: env.BUNDLE_REQUIRE_MANIFEST === 'true', ...(publicKeyFile ? { publicKey: readPublicKey(path.resolve(ROOT, publicKeyFile)) } : {}) });
  },
  onStatus: (status) => {
    writeScrapeTargets(path.join(runDir, 'prometheus'), routerUrls(), status);
    if (!router.url) return;
    void routerClient.reportDeployments(status).catch((err: unknown) => log.debug({ err }, 'status report failed'));
    void reportModels();
  },
});

const autoscaler = new Autoscaler(
  controller,
  () => {
    const s = { ...AUTOSCALING_DEFAULTS, ...source.value.autoscaling };
    return { intervalMs: s.interval_seconds * 1000, tolerance: s.tolerance, scaleDownStabilizationMs: s.scale_down_stabilization_seconds * 1000 };
  },
  log.child({ component: 'autoscaler' }),
);

// The bundles on disk, read again when the deployment changes (a bundle just dropped in) or when
// the last read is older than a while; where each runs is the controller's to say.
const RESCAN_MS = 10_000;
let scanned: { at: number; bundles: Awaited<ReturnType<typeof scanModels>> } | undefined;
source.onChange(() => (scanned = undefined));
// Reported when it changes (status reports come with every replica's step), and always to a router
// that has just started (it knows nothing yet).
let reportedModels: { url: string; models: string } | undefined;
async function reportModels(force = false): Promise<void> {
  if (!scanned || Date.now() - scanned.at > RESCAN_MS) scanned = { at: Date.now(), bundles: await scanModels(modelsDir) };
  const models = scanned.bundles.map((b) => ({ ...b, running_in: controller.environmentsRunning({ model: b.name, version: b.version }) }));
  const url = routerUrls().join(' ');
  if (!url || (!force && reportedModels?.url === url && reportedModels.models === JSON.stringify(models))) return;
  await routerClient
    .reportModels({ models_dir: modelsDir, reported_at: new Date().toISOString(), models })
    .then(() => (reportedModels = { url, models: JSON.stringify(models) }))
    .catch((err: unknown) => log.debug({ err }, 'model registry report failed'));
}
// A bundle copied or trained into the models folder while running shows in the registry within a rescan.
setInterval(() => void reportModels(), RESCAN_MS).unref();
source.watch();

function banner(url: string): string {
  const counts = Object.entries(source.value.environments).map(([name, e]) => `${name} ${e.version} ×${e.replicas}`).join(', ');
  return [
    '',
    `  sentiment-serving is up: ${counts}`,
    '',
    ...(instances > 1 ? [`  Routers       ${instances}, sharing weights, rollouts, decisions, rate limits and feedback through ${localRedis ? `redis-server at ${localRedis.url} (data in ${path.relative(process.cwd(), path.join(runDir, 'redis')) || 'redis'}/)` : stateStoreUrl!.replace(/\/\/[^@/]*@/, '//***@')}`] : []),
    `  API           ${routers.map((r) => `${r.url}/predict`).join('   ')}   (POST {"text": "..."})`,
    `  gRPC          ${routers.map((r) => r.grpc ?? '(not listening)').join('   ')}   (Open Inference Protocol, inference.GRPCInferenceService; its REST form at ${url}/v2)`,
    `  Dashboard     ${url}/dashboard   (log in with any user name and the admin token as password)`,
    `  Swagger UI    ${url}/docs`,
    `  GraphQL       ${url}/graphql   (queries, mutations; subscriptions over WebSocket; schema in docs/graphql/)`,
    `  Metrics       ${url}/metrics`,
    `  Admin API     ${url}/admin/deployments   (Authorization: Bearer <token>)`,
    `  Deploy        edit ${path.relative(process.cwd(), source.file) || source.file}, or npm run deploy -- <version> <environment> [replicas]`,
    `  Release       npm run release -- <bundle>   (gates, shadow, analysed rollout, promote; deploy/release.yaml)`,
    `  Logs          ${path.relative(process.cwd(), logDir) || logDir}/ (one JSON log per process)`,
    `  Admin token   ${generated ? `${token}  (generated; saved to ${path.relative(process.cwd(), tokenFile)}, mode 600)` : 'from ROUTER_ADMIN_TOKEN'}`,
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
  source.close();
  autoscaler.stop();
  // Replicas first (each deregistered, then drained), then the routers, then their store.
  await controller.stop();
  await Promise.all(routers.map((r) => r.stop()));
  await localRedis?.stop();
  fs.rmSync(path.join(runDir, CONTROLLER_FILE), { force: true });
  log.info('all processes stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

for (const r of routers) r.start();
controller.start();
autoscaler.start();
const started = Date.now();
const upToDate = () => controller.status().environments.every((e) => e.update.state === 'completed');
// Up means every router routes to every replica: one that came up after a replica was put in
// rotation is given it (routesTo registers it where it is missing) and must see it pass its checks.
const routedEverywhere = async () =>
  (await Promise.all(Object.keys(source.value.environments).flatMap((env) => controller.replicasOf(env).flatMap((r) => (r.url ? [routerClient.routesTo(r.url).catch(() => false)] : []))))).every(Boolean);
// ...and ready: warmed up, where the router warms up.
const routersReady = async () => (await Promise.all(routerUrls().map((url) => answersReady(url).catch(() => false)))).every(Boolean);
while (!stopping && !(routerUrls().length === instances && upToDate() && (await routedEverywhere()) && (await routersReady()))) {
  if (Date.now() - started > 120_000) {
    log.error({ environments: controller.status().environments.map((e) => ({ name: e.name, update: e.update })) }, 'the deployment did not become ready within 120 s');
    break;
  }
  await new Promise((r) => setTimeout(r, 200));
}
if (!stopping && router.url) {
  process.stdout.write(banner(router.url));
  log.info(
    {
      launcher: process.pid,
      routers: routers.map((r) => ({ pid: r.pid, url: r.url, grpc: r.grpc })),
      ...(localRedis ? { state_store: { pid: localRedis.pid, url: localRedis.url } } : {}),
      replicas: Object.keys(source.value.environments).flatMap((env) => controller.replicasOf(env).map((r) => ({ id: r.id, pid: r.pid, url: r.url, grpc: r.grpc, model_version: r.template.version }))),
    },
    'deployment ready',
  );
}
