// npm run deploy -- <version> <environment> [replicas]: the seed's deploy_model.sh against the
// running deployment. Sets the environment's version (and replica count) in the deployment file,
// then follows the rolling update through the router's admin API, one line per change, and exits
// 0 once every replica of the new version is ready, or 1 with the reason the update stopped.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ENV_NAME_PATTERN } from '../../router/index.ts';
import { loadLauncherConfig } from './config.ts';
import { bundleDir, deployVersion } from './deploy-flow.ts';
import { parseDeployment } from './deployment.ts';
import { failWith, ROOT } from './paths.ts';
import { findRunning, type Running } from './running.ts';

const USAGE = 'usage: npm run deploy -- <version> <environment> [replicas] [--model NAME] [--timeout SECONDS]';

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
try {
  bundleDir(path.resolve(ROOT, current.services.models_dir), model, version);
} catch (err) {
  fail((err as Error).message);
}
const count = replicas ?? existing?.replicas ?? 1;

let running: Running;
try {
  running = findRunning(ROOT, config);
} catch (err) {
  fail((err as Error).message);
}
if (running.deploymentFile !== file) fail(`the running controller reconciles ${running.deploymentFile}, not ${file}`);

try {
  await deployVersion({ running, environment, model, version, replicas: count, timeoutMs, say: (line) => process.stdout.write(`deploy: ${line}\n`) });
} catch (err) {
  fail((err as Error).message);
}
process.stdout.write(`deploy: done: ${environment} serves ${model} ${version} on ${count} replica${count === 1 ? '' : 's'}\n`);
process.exit(0);
