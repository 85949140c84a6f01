// The deployment controller on the real launcher, under steady load: a new version rolled out with
// `npm run deploy` (every request answered, the new version answering by the end), a broken bundle
// (the update stops, the old replicas keep serving, status and logs say why), a tampered one
// (refused before any replica starts), an environment added
// live (no traffic until it is given a weight) and removed, an invalid edit (rejected, the last good
// state kept), and the controller's hold on its processes.
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { DeploymentStatus, EnvironmentStatus, ModelRegistryView } from '../../shared/api/deployments.ts';
import { deploy, isAlive, nodeChildrenOf, startLauncher } from '../helpers/launcher.ts';
import { steadyLoad } from '../helpers/load.ts';
import { until } from '../helpers/router.ts';
import { ROOT } from '../../testkit/processes.ts';
import { nodeArgs } from '../../testkit/entry.ts';

const environmentIn = (status: DeploymentStatus, name: string): EnvironmentStatus | undefined => status.environments.find((e) => e.name === name);

t.test('live deployments under load: a rolling update, a broken bundle, an environment added and removed, an invalid edit', async (t) => {
  const launcher = await startLauncher(t, {
    environments: { blue: { version: '1.0.0', replicas: 1 }, green: { version: '1.1.0', replicas: 1 } },
    weights: { blue: 50, green: 50 },
    extraBundles: { '9.9.9': { 'model.onnx': Buffer.from('not an onnx graph') }, '9.9.8': {} },
  });
  const load = steadyLoad(launcher.base, 4);

  // 1. A new version, the seed's way: npm run deploy -- <version> <environment>.
  const rolled = await deploy(launcher, ['2.0.0', 'green']);
  const rolledAt = Date.now();
  t.equal(rolled.code, 0, 'npm run deploy exits 0 once every replica of the new version is ready');
  t.match(rolled.output, /deploy: green: 2\.0\.0 1\/1 ready/, 'it follows the update');
  t.match(rolled.output, /done: green serves sentiment 2\.0\.0 on 1 replica/);
  t.match(await fs.readFile(launcher.deploymentFile, 'utf8'), /^# a test deployment/, 'the file keeps its comments');
  t.equal(parseDocument(await fs.readFile(launcher.deploymentFile, 'utf8')).getIn(['environments', 'green', 'version']), '2.0.0');
  await until(async () => (await fetchStatus()).environments.every((e) => e.update.state === 'completed'));
  const status = await fetchStatus();
  t.same(environmentIn(status, 'green')?.versions, ['2.0.0'], 'only the new version runs in green');

  // 2. A bundle that cannot be loaded: the update stops, the old replica keeps serving.
  const broken = await deploy(launcher, ['9.9.9', 'green']);
  t.equal(broken.code, 1, 'npm run deploy exits 1');
  t.match(broken.output, /the update stopped: .*9\.9\.9\/model\.onnx: cannot be loaded by onnxruntime/, 'and says why');
  const failed = environmentIn(await fetchStatus(), 'green');
  t.equal(failed?.update.state, 'failed');
  t.equal(failed?.last_error?.version, '9.9.9');
  t.match(failed?.last_error?.reason, /cannot be loaded by onnxruntime/, 'the status names the reason');
  t.same(failed?.versions, ['2.0.0'], 'the previous replica keeps serving');
  t.match(launcher.output(), /replica failed to start: the update stops and the previous replicas keep serving/, 'so does the log');

  // 2b. A bundle changed after its manifest was written (one byte): refused before any replica starts.
  const tampered = path.join(launcher.dir, 'models', 'sentiment', '9.9.8', 'model.onnx');
  const bytes = await fs.readFile(tampered);
  bytes[bytes.length - 64] ^= 0x01;
  await fs.writeFile(tampered, bytes);
  const refused = await deploy(launcher, ['9.9.8', 'green']);
  t.equal(refused.code, 1, 'npm run deploy exits 1');
  t.match(refused.output, /the update stopped: bundle refused before deploying: .*9\.9\.8\/model\.onnx: does not match its sha256 in manifest\.json/, 'and names the changed file');
  t.same(environmentIn(await fetchStatus(), 'green')?.versions, ['2.0.0'], 'the previous replica keeps serving');
  t.notMatch(launcher.output(), /"model_version":"9\.9\.8"[^\n]*"msg":"starting a replica"/, 'no replica of it was started');

  // 3. A new environment, added by editing the file: it runs, but takes no traffic until weighted.
  const doc = parseDocument(await fs.readFile(launcher.deploymentFile, 'utf8'));
  doc.setIn(['environments', 'canary'], doc.createNode({ model: 'sentiment', version: '1.0.0', replicas: 1 }));
  await fs.writeFile(launcher.deploymentFile, doc.toString());
  await until(async () => environmentIn(await fetchStatus(), 'canary')?.update.state === 'completed', 60_000, 200);
  const config = (await launcher.admin<{ environments: { name: string; weight: number; healthy_replicas: number }[] }>('/admin/config')).body;
  t.same(config.environments.find((e) => e.name === 'canary'), { name: 'canary', weight: 0, share: 0, model_versions: ['1.0.0'], backup: false, shadow: 0, coalesce: true, healthy_replicas: 1, replicas: 1 }, 'listed with weight 0');
  // The weight applies before the PUT's answer arrives: a request may reach the canary meanwhile.
  const weightedAt = Date.now();
  const weighted = await launcher.admin('/admin/weights', { method: 'PUT', body: { weights: { canary: 20 } } });
  t.equal(weighted.status, 200, 'a running environment can be given a weight through the admin API');
  await until(() => load.result.answers.some((a) => a.environment === 'canary'));

  const models = (await launcher.admin<ModelRegistryView>('/admin/models')).body;
  const v2 = models.models.find((m) => m.version === '2.0.0');
  t.same(v2?.running_in, ['green'], 'the registry says where each bundle runs');
  t.same(models.models.find((m) => m.version === '9.9.9')?.running_in, [], 'the broken one runs nowhere');
  t.type((v2?.metrics as { test?: { accuracy?: number } })?.test?.accuracy, 'number', 'with its held-out metrics');

  // 4. An invalid edit is rejected with the field named; the last good state stays.
  const good = await fs.readFile(launcher.deploymentFile, 'utf8');
  await fs.writeFile(launcher.deploymentFile, good.replace(/(canary:[\s\S]*?replicas: )1/, '$1-1'));
  await until(async () => (await fetchStatus()).last_reload.ok === false);
  const rejected = await fetchStatus();
  t.equal(rejected.last_reload.failure?.path, '/environments/canary/replicas', 'the status names the field');
  t.equal(environmentIn(rejected, 'canary')?.ready_replicas, 1, 'the canary keeps running');

  // 5. An environment removed from the file: its replicas leave rotation and stop.
  const removed = parseDocument(good);
  removed.deleteIn(['environments', 'canary']);
  await launcher.admin('/admin/weights', { method: 'PUT', body: { weights: { canary: 0 } } });
  await fs.writeFile(launcher.deploymentFile, removed.toString());
  await until(async () => environmentIn(await fetchStatus(), 'canary') === undefined, 30_000, 200);
  t.same((await launcher.admin<{ environment: string }[]>('/admin/replicas')).body.filter((r) => r.environment === 'canary'), [], 'no canary replica left');

  const result = await load.stop();
  t.same(result.failed, [], `no request failed (${result.sent} sent)`);
  t.ok(result.answers.length > 200, `${result.answers.length} requests answered`);
  t.ok(result.answers.filter((a) => a.at > rolledAt && a.environment === 'green').every((a) => a.version === '2.0.0'), 'after the deploy, green answers as 2.0.0');
  t.notOk(result.answers.some((a) => a.environment === 'canary' && a.at < weightedAt), 'no traffic to the canary before it had a weight');
  t.ok(result.answers.some((a) => a.environment === 'canary'), 'traffic to the canary once weighted');

  async function fetchStatus(): Promise<DeploymentStatus> {
    return (await launcher.admin<DeploymentStatus>('/admin/deployments')).body;
  }
});

t.test('the controller owns its processes: a second start on its port refuses clearly; SIGKILL leaves no orphan', async (t) => {
  const launcher = await startLauncher(t, { environments: { blue: { version: '1.0.0', replicas: 1 } }, weights: { blue: 1 } });
  const port = new URL(launcher.base).port;

  // The same deployment, with the router's port fixed to the one the first launcher holds.
  const second = `${launcher.deploymentFile}.second.yaml`;
  await fs.writeFile(second, (await fs.readFile(launcher.deploymentFile, 'utf8')).replace('port: 0', `port: ${port}`));
  const refused = spawn(process.execPath, nodeArgs('launcher/src/main.ts'), { cwd: ROOT, env: { ...process.env, ...launcher.env, DEPLOYMENT_FILE: second }, stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  refused.stdout.on('data', (d) => (said += d));
  refused.stderr.on('data', (d) => (said += d));
  const code = await new Promise((resolve) => refused.once('exit', resolve));
  t.equal(code, 1, 'the second start exits 1');
  t.match(said, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use by pid \\d+ \\(.*router/src/server`), 'naming the port and what holds it');

  const children = nodeChildrenOf(launcher.proc.pid as number);
  t.equal(children.length, 2, 'a router and a replica');
  launcher.proc.kill('SIGKILL');
  await until(() => !children.some(isAlive), 15_000, 100);
  t.pass('every child exited once its controller was killed');
});
