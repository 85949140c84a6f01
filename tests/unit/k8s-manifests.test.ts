// deploy/k8s and deploy/docker: every manifest valid against the Kubernetes schemas
// (kubernetes-models; the Prometheus Operator's for ServiceMonitors), the kustomizations rendered
// as `kubectl apply -k` would (kubectl's built-in kustomize, where kubectl is installed), and the
// parts that must agree with the code cross-checked: ports, probe paths, environment variables,
// labels and selectors, model versions, the DNS names the router resolves, the Dockerfiles.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { parseAllDocuments } from 'yaml';
import { Namespace, Service, ConfigMap, Secret } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { LIVE_PATH, READY_PATH } from '../../shared/api/health.ts';
import { nodeFlags } from '../../shared/runtime/node-flags.ts';
import { loadRouterConfig, parseRouterFile, parseWeights, ROUTER_OVERRIDES, RouterEnv } from '../../router/index.ts';
import { ServiceEnv } from '../../services/inference/index.ts';
import { ROOT } from '../../testkit/processes.ts';

const K8S = path.join(ROOT, 'deploy/k8s');
const DOCKER = path.join(ROOT, 'deploy/docker');
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => fs.existsSync(p));

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

function validate(t: Test, m: Manifest, where: string) {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) return t.fail(`${where}: ${m.apiVersion} ${m.kind} is not a kind this project expects`);
  try {
    new Model(m).validate();
    t.pass(`${where}: ${m.kind} ${m.metadata.name} is valid`);
  } catch (err) {
    t.fail(`${where}: ${m.kind} ${m.metadata.name}: ${(err as Error).message}`);
  }
}

const parseDocs = (text: string): Manifest[] => parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter(Boolean);

function manifestFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return manifestFiles(full);
    return e.name.endsWith('.yaml') && !['kustomization.yaml', 'weights.yaml', 'router.yaml'].includes(e.name) ? [full] : [];
  });
}


t.test('every manifest file is valid against the Kubernetes schemas', async (t) => {
  const files = manifestFiles(K8S);
  t.ok(files.length >= 10, `${files.length} manifest files`);
  for (const file of files) for (const m of parseDocs(await fsp.readFile(file, 'utf8'))) validate(t, m, path.relative(ROOT, file));
});

t.test('every kustomization names files and folders that exist', async (t) => {
  const kustomizations = fs.readdirSync(K8S, { recursive: true }).map(String).filter((f) => f.endsWith('kustomization.yaml'));
  t.ok(kustomizations.length >= 7);
  for (const k of kustomizations) {
    const dir = path.dirname(path.join(K8S, k));
    const doc = parseDocs(await fsp.readFile(path.join(K8S, k), 'utf8'))[0] as unknown as { resources?: string[]; configMapGenerator?: { files: string[] }[] };
    for (const r of doc.resources ?? []) t.ok(fs.existsSync(path.join(dir, r)), `${k}: ${r} exists`);
    for (const g of doc.configMapGenerator ?? []) for (const f of g.files) t.ok(fs.existsSync(path.join(dir, f)), `${k}: ${f} exists`);
  }
});

/** The production overlay as kubectl apply -k renders it, with the example secrets filled in. */
async function renderProduction(t: Test): Promise<Manifest[]> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'k8s-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  await fsp.cp(K8S, dir, { recursive: true });
  const overlay = path.join(dir, 'overlays/production');
  const example = await fsp.readFile(path.join(overlay, 'router-secrets.env.example'), 'utf8');
  await fsp.writeFile(path.join(overlay, 'router-secrets.env'), example.replace(/^admin-token=$/m, 'admin-token=rendered-admin-token-0123456789').replace(/^state-store-password=$/m, 'state-store-password=rendered-store-password'));
  const { stdout } = await promisify(execFile)(KUBECTL!, ['kustomize', overlay], { maxBuffer: 16 * 1024 * 1024 });
  return parseDocs(stdout);
}

t.test('kubectl apply -k: the production overlay renders, and what it renders agrees with the code', { skip: KUBECTL ? false : 'kubectl is not installed: its built-in kustomize renders the overlay' }, async (t) => {
  const all = await renderProduction(t);
  for (const m of all) validate(t, m, 'rendered');
  const of = (kind: string) => all.filter((m) => m.kind === kind);
  t.ok(all.every((m) => m.kind === 'Namespace' || m.metadata.namespace === 'sentiment'), 'everything in the sentiment namespace');

  const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);
  const podsOf = (d: Manifest) => d.spec.template.metadata.labels as Record<string, string>;
  const deployments = of('Deployment');
  const environments = deployments.filter((d) => d.metadata.labels?.['app.kubernetes.io/name'] === 'sentiment-inference');
  t.same(environments.map((d) => d.metadata.labels?.['sentiment.io/environment']).sort(), ['blue', 'canary', 'green'], 'a Deployment per environment');

  // The weights the router loads: valid, and each environment's DNS name is its headless Service.
  const weightsMap = of('ConfigMap').find((c) => c.metadata.name === 'sentiment-router-weights');
  const weights = parseWeights(weightsMap!.data!['weights.yaml']);
  for (const d of environments) {
    const env = d.metadata.labels!['sentiment.io/environment'];
    const container = d.spec.template.spec.containers[0];
    const vars = Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    const config = Value.Parse(ServiceEnv, vars) as ServiceEnv;
    t.ok(fs.existsSync(path.join(ROOT, 'models', config.MODEL_NAME, config.MODEL_VERSION, 'model.onnx')), `${env}: serves a bundle the image holds (${config.MODEL_NAME} ${config.MODEL_VERSION})`);
    t.equal(container.ports[0].containerPort, config.PORT, `${env}: the container port is the service's PORT`);
    t.match(container.ports[1], { name: 'grpc', containerPort: config.GRPC_PORT }, `${env}: the gRPC port is the service's GRPC_PORT`);
    t.equal(config.HOST, '0.0.0.0', `${env}: listens beyond loopback`);
    t.equal(container.readinessProbe.httpGet.path, READY_PATH, `${env}: readiness on ${READY_PATH}`);
    t.equal(container.livenessProbe.httpGet.path, LIVE_PATH, `${env}: liveness on ${LIVE_PATH}`);

    const service = of('Service').find((s) => s.spec.clusterIP === 'None' && matches(s.spec.selector, podsOf(d)));
    t.ok(service, `${env}: a headless Service selects its pods`);
    t.ok(matches(d.spec.selector.matchLabels, podsOf(d)), `${env}: the Deployment's selector matches its pods`);
    t.notOk(environments.some((other) => other !== d && matches(service!.spec.selector, podsOf(other))), `${env}: its Service selects no other environment's pods`);
    const discovery = weights.environments[env]?.discovery;
    t.equal(discovery?.dns, `${service!.metadata.name}.${service!.metadata.namespace}.svc.cluster.local`, `${env}: the router resolves its Service's name`);
    t.equal(discovery?.port, config.PORT, `${env}: on the replicas' port`);

    const hpa = of('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
    t.match(hpa?.spec, { minReplicas: 2, maxReplicas: 20, metrics: [{ resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }] }, `${env}: autoscaled 2–20 at 70% CPU`);
    t.equal(d.spec.replicas, undefined, `${env}: the autoscaler owns the replica count`);
    const pdb = of('PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels, podsOf(d)));
    t.ok(pdb && !environments.some((other) => other !== d && matches(pdb.spec.selector.matchLabels, podsOf(other))), `${env}: a PodDisruptionBudget of its own`);
  }

  // The router: its environment variables are the ones it reads, its settings file loads with
  // them as the pod would, the weights folder is mounted whole (a subPath mount never sees
  // ConfigMap updates), the settings come from a hashed ConfigMap, the tokens from the Secret.
  const router = deployments.find((d) => d.metadata.name === 'sentiment-router')!;
  const container = router.spec.template.spec.containers[0];
  const known = new Set([...Object.keys(RouterEnv.properties), ...ROUTER_OVERRIDES.map((o) => o.name)]);
  const routerEnv = container.env as { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  // A variable that is not the router's own is there to be put into another's value, as $(NAME).
  const interpolated = (name: string) => routerEnv.some((e) => e.value?.includes(`$(${name})`));
  for (const e of routerEnv) t.ok(known.has(e.name) || interpolated(e.name), `router: ${e.name} is a setting the router reads${known.has(e.name) ? '' : ' (through another variable)'}`);
  const secretValues = Object.fromEntries(routerEnv.filter((e) => !e.value).map((e) => [e.name, e.valueFrom?.fieldRef ? 'sentiment-router-7d9f8-abcde' : 'rendered-secret']));
  const plain = Object.fromEntries(routerEnv.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!.replace(/\$\((\w+)\)/g, (_, name: string) => secretValues[name] ?? '')]));
  const volumeOf = (file: string) => {
    const mount = container.volumeMounts.find((v: { mountPath: string }) => file.startsWith(`${v.mountPath}/`));
    return { mount, volume: mount && router.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name) };
  };
  const settingsFile = plain.ROUTER_CONFIG_FILE ?? '';
  const settingsMap = of('ConfigMap').find((c) => c.metadata.name === volumeOf(settingsFile).volume?.configMap?.name);
  const settingsText = settingsMap?.data?.[path.basename(settingsFile)];
  t.ok(settingsText, "router: ROUTER_CONFIG_FILE is a file of a ConfigMap's volume");
  t.match(settingsMap?.metadata.name, /^sentiment-router-config-[a-z0-9]+$/, 'router: its settings ConfigMap is hashed, so an edit rolls the pods (they are read at start)');
  const fromPod = Object.fromEntries(routerEnv.filter((e) => e.valueFrom?.fieldRef).map((e) => [e.name, secretValues[e.name]]));
  const routerConfig = loadRouterConfig({ ...plain, ...fromPod, ROUTER_ADMIN_TOKEN: 'placeholder-admin-token-0123' }, parseRouterFile(settingsText ?? '', 'router.yaml'));
  t.equal(container.ports[0].containerPort, routerConfig.port, 'router: the container port is ROUTER_PORT');
  t.match(container.ports[1], { name: 'grpc', containerPort: routerConfig.grpcPort }, 'router: the gRPC port is ROUTER_GRPC_PORT');
  t.equal(container.readinessProbe.httpGet.path, READY_PATH);
  t.equal(container.livenessProbe.httpGet.path, LIVE_PATH);
  t.equal(routerConfig.guard.mode, 'act', 'router: the guard acts (weights changes are live state in the store; the ConfigMap is the spec)');
  t.equal(routerConfig.stateStore?.routerId, 'sentiment-router-7d9f8-abcde', "router: each pod's name in the election is its own");

  // The state store: a Redis the routers' URL names, its append-only file fsynced on every write
  // on a persistent volume, its password from the same Secret as the routers'.
  const redis = of('StatefulSet').find((s) => s.metadata.name === 'sentiment-redis')!;
  t.ok(redis, 'a Redis StatefulSet');
  const store = new URL(routerConfig.stateStore!.url);
  const redisService = of('Service').find((s) => s.metadata.name === store.hostname)!;
  t.ok(redisService && matches(redisService.spec.selector, podsOf(redis)), `router: ROUTER_STATE_STORE_URL names the Redis Service (${store.hostname})`);
  t.equal(String(redisService.spec.ports[0].port), store.port, 'on its port');
  t.equal(store.password, 'rendered-secret', 'with the password from the Secret');
  const redisContainer = redis.spec.template.spec.containers[0];
  const args = (redisContainer.args as string[]).join(' ');
  t.match(args, /--appendonly yes --appendfsync always/, 'Redis: append-only file, fsync on every write (acknowledged means on disk)');
  t.match(args, /--requirepass \$\(REDIS_PASSWORD\)/, 'Redis: a password is required');
  t.match(args, /--lazyfree-lazy-expire yes/, "Redis: an expired bucket of the routers' answers is freed off its main thread");
  const redisSecret = (redisContainer.env as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]).find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef;
  const routerSecret = (container.env as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]).find((e) => e.name === 'STATE_STORE_PASSWORD')?.valueFrom?.secretKeyRef;
  t.same(redisSecret, routerSecret, 'Redis and the routers read the same password');
  t.equal(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi', 'Redis: its data on a persistent volume claim');
  t.ok(redisContainer.volumeMounts.some((v: { name: string; mountPath: string }) => v.name === redis.spec.volumeClaimTemplates[0].metadata.name && args.includes(`--dir ${v.mountPath}`)), 'Redis: its folder is the volume');
  t.equal(redis.spec.template.spec.securityContext.runAsNonRoot, true, 'Redis: non-root');
  t.match(redisContainer.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, 'Redis: read-only root, no privileges');
  const weightsAt = volumeOf(routerConfig.weightsFile);
  t.ok(weightsAt.mount && !weightsAt.mount.subPath, 'router: the weights folder is mounted whole, so ConfigMap updates reach it');
  t.equal(weightsAt.volume.configMap.name, weightsMap!.metadata.name, 'router: from the weights ConfigMap');
  t.equal(path.basename(routerConfig.weightsFile), 'weights.yaml');
  const secret = of('Secret')[0];
  const refs = (container.env as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[]).flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ env: e.name, ...e.valueFrom.secretKeyRef }] : []));
  t.same(refs.map((r) => r.env).sort(), ['ROUTER_ADMIN_TOKEN', 'ROUTER_API_KEYS', 'ROUTER_READ_TOKEN', 'STATE_STORE_PASSWORD'], 'router: the admin token, read-only token, API keys and store password come from the Secret');
  for (const r of refs) t.equal(r.name, secret.metadata.name, `router: ${r.env} from the generated Secret`);
  t.ok(secret.data?.['admin-token'], 'the Secret holds the admin token');
  t.ok(secret.data?.['state-store-password'], 'and the store password');
  const routerService = of('Service').find((s) => matches(s.spec.selector, podsOf(router)))!;
  t.equal(routerService.spec.ports[0].targetPort, container.ports[0].name, 'the router Service targets its port');
  t.ok(routerService.spec.ports.some((p: { targetPort: string }) => p.targetPort === 'grpc'), 'and its gRPC port');
  t.ok(of('PodDisruptionBudget').some((p) => matches(p.spec.selector.matchLabels, podsOf(router))), 'the router has a PodDisruptionBudget');

  // Every Deployment: non-root, read-only root filesystem, requests and limits, a preStop drain.
  for (const d of deployments) {
    const pod = d.spec.template.spec;
    t.equal(pod.securityContext.runAsNonRoot, true, `${d.metadata.name}: non-root`);
    for (const c of pod.containers) {
      t.match(c.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, `${d.metadata.name}: read-only root, no privileges`);
      t.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${d.metadata.name}: requests and limits`);
      t.ok(c.lifecycle.preStop, `${d.metadata.name}: a preStop drain`);
      t.ok(pod.terminationGracePeriodSeconds > 5 + 25, `${d.metadata.name}: the grace period covers the preStop sleep and the drain`);
      t.match(c.image, /^registry\.example\.com\/sentiment-serving\/(inference|router):/, `${d.metadata.name}: the overlay's image`);
    }
  }

  // ServiceMonitors select Services that exist, on a port they have, and give Prometheus the
  // job names the alert rules and dashboard use.
  for (const monitor of of('ServiceMonitor')) {
    const services = of('Service').filter((s) => matches(monitor.spec.selector.matchLabels, s.metadata.labels));
    t.ok(services.length > 0, `${monitor.metadata.name}: selects Services`);
    for (const s of services) {
      t.ok(s.spec.ports.some((p: { name: string }) => p.name === monitor.spec.endpoints[0].port), `${monitor.metadata.name}: ${s.metadata.name} has the port it scrapes`);
      t.ok(['router', 'replicas'].includes(s.metadata.labels![monitor.spec.jobLabel]), `${monitor.metadata.name}: job ${s.metadata.labels![monitor.spec.jobLabel]}`);
    }
  }
  const alerts = await fsp.readFile(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8');
  t.match(alerts, /job_name: router/);
  t.match(alerts, /job_name: replicas/);
});

t.test('the Dockerfiles: multi-stage, non-root, production dependencies only, the entry points the build makes', async (t) => {
  for (const [name, entry, port] of [['inference', 'dist/services/inference/src/server.js', '8000 8001'], ['router', 'dist/router/src/server.js', '8080 8081']] as const) {
    const text = await fsp.readFile(path.join(DOCKER, `${name}.Dockerfile`), 'utf8');
    const stages = text.match(/^FROM .*/gm) ?? [];
    t.ok(stages.length >= 2, `${name}: multi-stage (${stages.length} stages)`);
    for (const s of stages) t.match(s, /^FROM node:20-/, `${name}: on Node 20, as the project (${s})`);
    t.match(text, /ONNXRUNTIME_NODE_INSTALL=skip/, `${name}: onnxruntime-node downloads nothing`);
    t.match(text, /npm ci --omit=dev/, `${name}: production dependencies only`);
    const final = text.slice(text.lastIndexOf('\nFROM '));
    t.match(final, /^USER 10001:10001$/m, `${name}: runs as the non-root user the manifests name`);
    t.notMatch(final, /COPY (?!--from)[^\n]*\b(node_modules|tests|bench)\b/, `${name}: no dev files in the image`);
    t.match(final, new RegExp(`^EXPOSE ${port}$`, 'm'), `${name}: exposes ${port}`);
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(final)![1]) as string[];
    t.same(cmd.slice(0, 1), ['node'], `${name}: plain node in the image`);
    const script = cmd[cmd.length - 1];
    const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    t.ok(fs.existsSync(path.join(ROOT, source)), `${name}: ${script} is built from ${source}`);
    t.equal(script, entry);
    t.same(cmd.slice(1, -1), nodeFlags(source.replace(/\.ts$/, '')), `${name}: the node flags every launcher gives it`);
    for (const [, from] of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const f of from.split(' ')) t.ok(fs.existsSync(path.join(ROOT, f)), `${name}: COPY ${f} exists`);
  }
  // `npm run start:router` (the router alone, as the README shows) runs it with the same flags.
  const scripts = JSON.parse(await fsp.readFile(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  t.match(scripts['start:router'], `node ${[...nodeFlags('router/src/server'), 'dist/router/src/server.js'].join(' ')}`, 'npm run start:router: the router with its node flags');
  const ignore = await fsp.readFile(path.join(ROOT, '.dockerignore'), 'utf8');
  for (const entry of ['node_modules', 'dist', '.git', 'router-secrets.env']) t.match(ignore, entry, `.dockerignore keeps ${entry} out of the build context`);
});
