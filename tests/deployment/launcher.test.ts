// npm start's launcher: brings up the router and replicas from a deployment file, serves traffic,
// replaces a crashed replica, and on SIGTERM stops every process it started (no orphans).
import t from 'tap';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { until } from '../helpers/router.ts';
import { isAlive, nodeChildrenOf, startLauncher } from '../helpers/launcher.ts';
import { nodeFlags } from '../../shared/runtime/node-flags.ts';

t.test('starts the deployment, routes traffic, replaces a crashed replica, and leaves no process behind on SIGTERM', async (t) => {
  const launcher = await startLauncher(t, {
    environments: { blue: { version: '1.0.0', replicas: 1 }, green: { version: '1.1.0', replicas: 1 } },
    weights: { blue: 50, green: 50 },
    extraYaml: 'services: { host: 127.0.0.1, models_dir: MODELS, nice: 7, env: { INFERENCE_WORKERS: "0" } }\n',
  });
  const { base } = launcher;
  t.match(launcher.output(), `${base}/docs`, 'the banner shows the Swagger UI URL');
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const res = await request(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a fine film"}' });
    t.equal(res.statusCode, 200);
    seen.add(res.headers['x-environment'] as string);
    await res.body.dump();
  }
  t.same([...seen].sort(), ['blue', 'green'], 'both environments serve');

  // Prometheus follows the replicas through file-based service discovery.
  const targets = JSON.parse(readFileSync(path.join(launcher.env.RUN_DIR, 'prometheus', 'replicas.json'), 'utf8')) as { targets: string[]; labels: { environment: string } }[];
  t.same(targets.map((g) => g.labels.environment).sort(), ['blue', 'green'], 'every ready replica is a scrape target');
  t.same(JSON.parse(readFileSync(path.join(launcher.env.RUN_DIR, 'prometheus', 'router.json'), 'utf8'))[0].targets, [new URL(base).host], 'and so is the router');

  const children = nodeChildrenOf(launcher.proc.pid as number);
  t.equal(children.length, 3, 'router and two replicas are children of the launcher');

  // The router runs with the node flags shared/runtime/node-flags.ts gives it.
  const routerPid = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('router/src/server'))!;
  const cmdline = readFileSync(`/proc/${routerPid}/cmdline`, 'utf8').split('\0');
  for (const flag of nodeFlags('router/src/server')) t.ok(cmdline.includes(flag), `the router runs with ${flag}`);

  // A replica that crashes is deregistered and replaced (with back-off) by a new one.
  const replicas = async () => (await launcher.admin<{ environment: string; url: string; available: boolean }[]>('/admin/replicas')).body;
  const [green] = (await replicas()).filter((r) => r.environment === 'green');
  const greenPid = children.find((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes('MODEL_VERSION=1.1.0'));
  if (!greenPid) throw new Error('no green replica among the children');
  process.kill(greenPid, 'SIGKILL');
  await until(async () => !(await replicas()).some((r) => r.url === green.url), 10_000, 100);
  t.pass('the crashed replica is deregistered');
  await until(async () => (await replicas()).some((r) => r.environment === 'green' && r.available), 60_000, 200);
  t.pass('a new replica takes its place');
  const now = nodeChildrenOf(launcher.proc.pid as number);
  t.equal(now.length, 3, 'still three processes');
  const isReplica = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes('MODEL_VERSION=');
  t.same(now.map((pid) => (isReplica(pid) ? os.getPriority(pid) === 7 : os.getPriority(pid) === 0)), [true, true, true], 'replicas (the new one too) run at the configured niceness, the router at 0');

  const exited = new Promise<number | null>((resolve) => launcher.proc.on('exit', resolve));
  launcher.proc.kill('SIGTERM');
  t.equal(await exited, 0, 'the launcher exits 0');
  t.same(now.filter(isAlive), [], 'no orphan processes');
});
