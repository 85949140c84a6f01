// npm run deploy -- <version> <environment> [replicas]: the seed's deploy_model.sh against the
// running deployment. Sets the environment's version (and replica count) in the deployment file,
// then follows the rolling update through the router's admin API, one line per change, and exits
// 0 once every replica of the new version is ready, or 1 with the reason the update stopped.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { DEPLOYMENTS_PATH, type DeploymentStatus, type EnvironmentStatus } from '../../shared/api/deployments.ts';
import { ENV_NAME_PATTERN } from '../../router/index.ts';
import { loadLauncherConfig } from './config.ts';
import { parseDeployment, withEnvironment } from './deployment.ts';
import { failWith, ROOT } from './paths.ts';
import { findRunning, type Running } from './running.ts';

const USAGE = 'usage: npm run deploy -- <version> <environment> [replicas] [--model NAME] [--timeout SECONDS]';
const POLL_MS = 500;

const fail: (message: string) => never = failWith('deploy');

const { values, positionals } = parseArgs({ allowPositionals: true, options: { model: { type: 'string' }, timeout: { type: 'string', default: '300' } } });
const [version, environment, replicasArg] = positionals;
if (!version || !environment || positionals.length > 3) fail(USAGE);
if (!new RegExp(ENV_NAME_PATTERN).test(environment)) fail(`"${environment}" is not an environment name (lower case letters, digits and dashes)`);
const replicas = replicasArg === undefined ? undefined : Number(replicasArg);
if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 0 && replicas <= 32)) fail(`replicas must be a whole number from 0 to 32, not "${replicasArg}"`);
const timeoutMs = Number(values.timeout) * 1000;
if (!(timeoutMs > 0)) fail(`--timeout must be a number of seconds, not "${values.timeout}"`);

const config = loadLauncherConfig();
const file = path.resolve(ROOT, config.DEPLOYMENT_FILE);
const text = fs.readFileSync(file, 'utf8');
const current = parseDeployment(text);
const existing = current.environments[environment];
const model = values.model ?? existing?.model ?? Object.values(current.environments)[0]?.model;
if (!model) fail('--model is needed: the deployment names no model yet');
const bundle = path.resolve(ROOT, current.services.models_dir, model, version);
if (!fs.existsSync(path.join(bundle, 'model.onnx'))) fail(`no bundle at ${path.relative(process.cwd(), bundle)} (model.onnx missing)`);
const count = replicas ?? existing?.replicas ?? 1;

let running: Running;
try {
  running = findRunning(ROOT, config);
} catch (err) {
  fail((err as Error).message);
}
if (running.deploymentFile !== file) fail(`the running controller reconciles ${running.deploymentFile}, not ${file}`);
const { token } = running;

// Written as the controller's own edits are: validated whole, then atomically (temp + rename).
const edited = withEnvironment(text, environment, { model, version, replicas: count });
parseDeployment(edited);
const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
fs.writeFileSync(tmp, edited);
fs.renameSync(tmp, file);
const writtenAt = new Date().toISOString();
process.stdout.write(`deploy: ${environment} → ${model} ${version} × ${count} (${path.relative(process.cwd(), file)} updated)\n`);

async function status(): Promise<DeploymentStatus | undefined> {
  const res = await request(`${running.routerUrl}${DEPLOYMENTS_PATH}`, { headers: { authorization: `Bearer ${token}` }, headersTimeout: 5000, bodyTimeout: 5000 });
  if (res.statusCode !== 200) return (await res.body.dump(), undefined);
  return (await res.body.json()) as DeploymentStatus;
}

/** "green: 2.0.0 1/3 ready, 1 starting; still serving 1.1.0 ×2". */
function describe(e: EnvironmentStatus): string {
  const mine = e.replicas.filter((r) => r.version === e.version);
  const count = (phase: string) => mine.filter((r) => r.phase === phase).length;
  const others = new Map<string, number>();
  for (const r of e.replicas) if (r.version !== e.version && r.phase !== 'stopping') others.set(r.version, (others.get(r.version) ?? 0) + 1);
  const draining = e.replicas.filter((r) => r.version !== e.version && r.phase === 'stopping').length;
  return [
    `${e.name}: ${e.version} ${count('ready')}/${e.desired_replicas} ready`,
    count('starting') ? `, ${count('starting')} starting` : '',
    others.size ? `; still serving ${[...others].map(([v, n]) => `${v} ×${n}`).join(', ')}` : '',
    draining ? `; ${draining} draining` : '',
  ].join('');
}

const deadline = Date.now() + timeoutMs;
let last = '';
while (Date.now() < deadline) {
  const s = await status().catch(() => undefined);
  // Only a report made after the edit, of the version asked for, says anything about this deploy.
  const e = s && s.reported_at >= writtenAt ? s.environments.find((env) => env.name === environment) : undefined;
  if (s && s.reported_at >= writtenAt && !s.last_reload.ok && s.last_reload.failure) fail(`the controller rejected the file: ${s.last_reload.failure.message}`);
  if (e && e.version === version) {
    const line = describe(e);
    if (line !== last) process.stdout.write(`deploy: ${line}\n`);
    last = line;
    if (e.update.state === 'failed' && e.last_error?.version === version) fail(`the update stopped: ${e.last_error.reason}`);
    if (e.update.state === 'completed' && e.ready_replicas === count && e.versions.length === (count > 0 ? 1 : 0)) {
      process.stdout.write(`deploy: done: ${environment} serves ${model} ${version} on ${count} replica${count === 1 ? '' : 's'}\n`);
      process.exit(0);
    }
  }
  await new Promise((r) => setTimeout(r, POLL_MS));
}
fail(`not done within ${timeoutMs / 1000} s; last seen: ${last || 'no report of the new version'}`);
