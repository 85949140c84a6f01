// npm start's launcher: brings up the router and replicas from a topology file, serves traffic,
// and on SIGTERM stops every process it started (no orphans).
import t from 'tap';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'undici';
import { ROOT } from '../../testkit/processes.ts';
import { until } from '../helpers/router.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The node processes the launcher started (tsx's esbuild helper is not one of them). */
const nodeChildrenOf = (pid: number): number[] => {
  try {
    const pids = execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
    return pids.filter((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node');
  } catch {
    return [];
  }
};

t.test('starts the topology, routes traffic, and leaves no process behind on SIGTERM', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'launcher-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const weights = path.join(dir, 'weights.yaml');
  await fs.writeFile(weights, 'environments:\n  blue: { weight: 50 }\n  green: { weight: 50 }\n');
  const topology = path.join(dir, 'local.yaml');
  await fs.writeFile(
    topology,
    `router: { host: 127.0.0.1, port: 0, weights_file: ${weights} }
services: { host: 127.0.0.1, models_dir: models, nice: 7, env: { INFERENCE_WORKERS: "0" } }
environments:
  blue: { model: sentiment, version: 1.0.0, replicas: 1 }
  green: { model: sentiment, version: 1.1.0, replicas: 1 }
`,
  );
  const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'launcher/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, DEPLOYMENT_FILE: topology, ROUTER_ADMIN_TOKEN: 'launcher-test-token-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  launcher.stdout.on('data', (d) => (output += d));
  launcher.stderr.on('data', (d) => (output += d));
  t.teardown(() => launcher.kill('SIGKILL'));

  await until(() => output.includes('sentiment-serving is up'), 120_000, 200);
  // Every port is ephemeral here: the banner tells where the router listens.
  const base = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/predict/.exec(output)?.[1];
  if (!base) throw new Error(`no router URL in the banner:\n${output}`);
  t.match(output, `${base}/docs`, 'the banner shows the Swagger UI URL');
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const res = await request(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a fine film"}' });
    t.equal(res.statusCode, 200);
    seen.add(res.headers['x-environment'] as string);
    await res.body.dump();
  }
  t.same([...seen].sort(), ['blue', 'green'], 'both environments serve');

  const children = nodeChildrenOf(launcher.pid!);
  t.equal(children.length, 3, 'router and two replicas are children of the launcher');

  // A replica that crashes is restarted (with back-off) and registered again.
  const admin = { authorization: 'Bearer launcher-test-token-0123456789' };
  const replicas = async () => (await (await request(`${base}/admin/replicas`, { headers: admin })).body.json()) as { environment: string; url: string; available: boolean }[];
  const [green] = (await replicas()).filter((r) => r.environment === 'green');
  const greenPid = children.find((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes('MODEL_VERSION=1.1.0'));
  if (!greenPid) throw new Error('no green replica among the children');
  process.kill(greenPid, 'SIGKILL');
  await until(async () => !(await replicas()).some((r) => r.url === green.url), 10_000, 100);
  t.pass('the crashed replica is deregistered');
  await until(async () => (await replicas()).some((r) => r.environment === 'green' && r.available), 60_000, 200);
  t.pass('the crashed replica is restarted and registered again');
  const restarted = nodeChildrenOf(launcher.pid!);
  t.equal(restarted.length, 3, 'still three processes');
  const isReplica = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes('MODEL_VERSION=');
  t.same(restarted.map((pid) => (isReplica(pid) ? os.getPriority(pid) === 7 : os.getPriority(pid) === 0)), [true, true, true], 'replicas (the restarted one too) run at the configured niceness, the router at 0');
  children.splice(0, children.length, ...restarted);
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', resolve));
  launcher.kill('SIGTERM');
  t.equal(await exited, 0, 'the launcher exits 0');
  t.same(children.filter(alive), [], 'no orphan processes');
});
