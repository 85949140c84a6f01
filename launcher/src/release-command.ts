// npm run release -- <bundle>: from a built bundle to production against the running deployment
// (npm start), every step printed as it happens and kept in the registry, so that a release killed
// at any point and started again resumes. Exit 0 only when the bundle was promoted.
//
//   npm run release -- models/sentiment/4.0.0            (or just 4.0.0)
//   npm run release -- 4.0.0 --config deploy/release.yaml --data ../shared/data --report-dir .run/releases
//   npm run release -- --status                          the release in progress and the last one
//   npm run release -- --abandon                         give up the one in progress (its rollout aborted)
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { routerClient } from '../../clients/router.ts';
import { readPublicKey } from '../../shared/bundle/manifest.ts';
import { loadLauncherConfig } from './config.ts';
import { parseDeployment } from './deployment.ts';
import { failWith, ROOT } from './paths.ts';
import { findRunning } from './running.ts';
import { writeReleaseReport } from './release/report.ts';
import { AdminCallError, releaseHolder, ReleaseRunner } from './release/runner.ts';
import { readReleaseSettings } from './release/settings.ts';

const USAGE = 'usage: npm run release -- <bundle folder or version> [--config FILE] [--data DIR] [--report-dir DIR] [--public-key FILE] | --status | --abandon';
const fail: (message: string) => never = failWith('release');
const say = (line: string) => process.stdout.write(`release: ${line}\n`);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: 'deploy/release.yaml' },
    data: { type: 'string' },
    'report-dir': { type: 'string' },
    'public-key': { type: 'string' },
    status: { type: 'boolean', default: false },
    abandon: { type: 'boolean', default: false },
  },
});

const launcher = loadLauncherConfig();
const deploymentFile = path.resolve(ROOT, launcher.DEPLOYMENT_FILE);
let running;
try {
  running = findRunning(ROOT, launcher);
} catch (err) {
  fail((err as Error).message);
}
const deployment = parseDeployment(fs.readFileSync(running.deploymentFile, 'utf8'));
if (running.deploymentFile !== deploymentFile) fail(`the running controller reconciles ${running.deploymentFile}, not ${deploymentFile}`);
const router = routerClient(running.routerUrl, { adminToken: running.token });

if (values.status || values.abandon) {
  const { data, error } = await router.GET('/admin/releases');
  if (!data) fail(`GET /admin/releases: ${JSON.stringify(error)}`);
  if (values.status) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    process.exit(0);
  }
  const current = data.current;
  if (!current) fail('no release is in progress');
  const rollouts = await router.GET('/admin/rollouts');
  if (current.facts.rollout_id && rollouts.data?.current?.id === current.facts.rollout_id) {
    await router.POST('/admin/rollouts/current/abort');
    say(`rollout ${String(current.facts.rollout_id)} aborted: the weights from before it are back`);
  }
  const res = await router.PUT('/admin/releases/current', { body: { id: current.id, state: 'abandoned', outcome: `abandoned by ${releaseHolder()}` } });
  if (!res.data) fail(`PUT /admin/releases/current: ${JSON.stringify(res.error)}`);
  say(`release ${current.id} abandoned (${current.model} ${current.version} keeps its stage; GET /admin/models shows it)`);
  process.exit(0);
}

if (positionals.length !== 1) fail(USAGE);
const modelsDir = path.resolve(ROOT, deployment.services.models_dir);
const given = positionals[0];
const model = Object.values(deployment.environments)[0]?.model;
const bundle = given.includes('/') || given.includes(path.sep) ? path.resolve(given) : model ? path.join(modelsDir, model, given) : fail(`"${given}": give the bundle's folder (the deployment names no model)`);
if (!fs.existsSync(path.join(bundle, 'model.onnx'))) fail(`no bundle at ${path.relative(process.cwd(), bundle)} (model.onnx missing)`);
const dataDir = values.data ?? process.env.SENTIMENT_DATA_DIR;
if (!dataDir || !fs.existsSync(path.join(dataDir, 'sst3', 'test.tsv'))) fail(`the offline gates evaluate on sst3/test.tsv: set SENTIMENT_DATA_DIR or --data to the folder holding sst3/ (${dataDir ?? 'unset'})`);
let settings;
try {
  settings = readReleaseSettings(path.resolve(ROOT, values.config!));
} catch (err) {
  fail((err as Error).message);
}
// Signed bundles: the key the replicas are given, or one named here.
const keyFile = values['public-key'] ?? deployment.services.env?.BUNDLE_PUBLIC_KEY_FILE;
const publicKey = keyFile ? readPublicKey(path.resolve(ROOT, keyFile)) : undefined;
const reportDir = path.resolve(values['report-dir'] ?? path.join(ROOT, launcher.RUN_DIR, 'releases'));

const runner = new ReleaseRunner({ running, settings, bundle, modelsDir, dataDir, root: ROOT, publicKey, say });
let outcome;
try {
  outcome = await runner.run();
} catch (err) {
  if (err instanceof AdminCallError) fail(err.message);
  throw err;
}
const metadata = JSON.parse(fs.readFileSync(path.join(bundle, 'metadata.json'), 'utf8')) as { name?: string; version?: string; lineage?: unknown };
const files = writeReleaseReport(reportDir, outcome, { bundle: path.relative(ROOT, bundle), model: metadata.name ?? path.basename(path.dirname(bundle)), version: metadata.version ?? path.basename(bundle), settings, lineage: metadata.lineage ?? null });
say(`report: ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
say(`${outcome.state}${outcome.record?.outcome ? `: ${outcome.record.outcome}` : outcome.refusal ? `: ${outcome.refusal}` : ''}`);
process.stdout.write(`${JSON.stringify({ state: outcome.state, release: outcome.record?.id ?? null, outcome: outcome.record?.outcome ?? outcome.refusal ?? null, report: files[0] })}\n`);
process.exit(outcome.state === 'promoted' ? 0 : 1);
