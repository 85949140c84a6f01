// npm run monitor: a real Prometheus scrapes the running deployment under bounded load, and the
// seed's queries, with our metric names, read back the 70/25/5 split and each version's mean
// confidence through Prometheus's HTTP API.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { startLauncher } from '../helpers/launcher.ts';
import { steadyLoad } from '../helpers/load.ts';
import { until } from '../helpers/router.ts';
import { ROOT } from '../../testkit/processes.ts';
import { nodeArgs } from '../../testkit/entry.ts';

const skip = spawnSync('prometheus', ['--version']).status === 0 ? false : 'prometheus is not installed (apt-get install prometheus; .ci/run installs it)';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

t.test("Prometheus reads the split and the confidence per version with the seed's queries", { skip }, async (t) => {
  const launcher = await startLauncher(t, {
    environments: { blue: { version: '1.0.0', replicas: 1 }, green: { version: '1.1.0', replicas: 1 }, canary: { version: '2.0.0', replicas: 1 } },
    weights: { blue: 70, green: 25, canary: 5 },
  });
  const port = await freePort();
  const monitor = spawn(process.execPath, [...nodeArgs(path.join(ROOT, 'launcher/src/monitor-command.ts')), '--port', String(port)], { cwd: ROOT, env: { ...process.env, ...launcher.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  monitor.stdout.on('data', (d) => (said += d));
  monitor.stderr.on('data', (d) => (said += d));
  const exited = new Promise((resolve) => monitor.once('exit', resolve));
  t.teardown(async () => {
    monitor.kill('SIGTERM');
    await exited;
  });
  const query = async (q: string) => {
    const res = await request(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.body.json()) as { data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data?.result ?? [];
  };

  // Every target found through the discovery files and up: the router and three replicas.
  await until(async () => (await query('up').catch(() => [])).filter((r) => r.value[1] === '1').length === 4, 60_000, 500);
  t.pass(`Prometheus scrapes the router and the three replicas (${said.trim()})`);

  const load = steadyLoad(launcher.base, 8, 120_000);
  const split = async () => Object.fromEntries((await query('sum by (backend) (rate(sentiment_api_requests_total[1m]))')).map((r) => [r.metric.backend, Number(r.value[1])]));
  await until(async () => {
    const s = await split();
    return Object.keys(s).length === 3 && Object.values(s).every((v) => v > 0) && load.result.answers.length > 3000;
  }, 90_000, 1000);
  const shares = await split();
  const total = Object.values(shares).reduce((a, b) => a + b, 0);
  const result = await load.stop();
  t.same(result.failed, [], 'no request failed');
  t.ok(Math.abs(shares.blue / total - 0.7) < 0.05, `blue ${((shares.blue / total) * 100).toFixed(1)}% of the traffic`);
  t.ok(Math.abs(shares.green / total - 0.25) < 0.05, `green ${((shares.green / total) * 100).toFixed(1)}%`);
  t.ok(Math.abs(shares.canary / total - 0.05) < 0.03, `canary ${((shares.canary / total) * 100).toFixed(1)}%`);

  const confidence = await query('avg by (model_version) (sentiment_prediction_confidence)');
  t.same(confidence.map((r) => r.metric.model_version).sort(), ['1.0.0', '1.1.0', '2.0.0'], 'mean confidence for every version');
  t.ok(confidence.every((r) => Number(r.value[1]) > 0 && Number(r.value[1]) < 1), confidence.map((r) => `${r.metric.model_version}: ${Number(r.value[1]).toFixed(3)}`).join(', '));
  const rules = await request(`http://127.0.0.1:${port}/api/v1/rules`);
  const groups = ((await rules.body.json()) as { data: { groups: { rules: unknown[] }[] } }).data.groups;
  t.equal(groups[0]?.rules.length, 9, 'the alert rules are loaded');
});
