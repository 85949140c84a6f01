// The router as users run it: a real process, its start-up checks and its shutdown.
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { ROOT, runToExit, SERVICE_ENTRY, startProcess } from '../../../testkit/processes.ts';
import { metricSum } from '../../../testkit/metrics-text.ts';
import { fixtureBundleDir } from '../../helpers/build-app.ts';
import { tinyUpstream, until, weightsFile } from '../../helpers/router.ts';

const ENTRY = path.join(ROOT, 'router/src/server.ts');
const TOKEN = 'router-process-token-0123456789';

t.test('refuses to start without an admin token, naming the variable', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const { code, output } = await runToExit({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: '', ROUTER_PORT: '0' }, ENTRY);
  t.equal(code, 1);
  t.match(output, /ROUTER_ADMIN_TOKEN/);
});

t.test('refuses to start on an invalid weights file, naming the field', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: -1 }\n');
  const { code, output } = await runToExit({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0' }, ENTRY);
  t.equal(code, 1);
  t.match(output, /\/environments\/blue\/weight/);
});

t.test('refuses to start on an invalid settings file, naming the file and the field', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const settings = path.join(path.dirname(file), 'router.yaml');
  await fs.writeFile(settings, 'hedge: { delay_factor: 1000 }\n');
  const { code, output } = await runToExit({ ROUTER_CONFIG_FILE: settings, ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0' }, ENTRY);
  t.equal(code, 1);
  t.match(output, /router\.yaml: \/hedge\/delay_factor/);
});

t.test('serves, then drains on SIGTERM and exits 0', async (t) => {
  const upstream = await tinyUpstream(t, 'blue');
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${upstream.url}] }\n`);
  const router = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '100' }, ENTRY);
  t.teardown(() => router.stop('SIGKILL'));
  await until(async () => {
    const res = await request(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"good"}' });
    await res.body.dump();
    return res.statusCode === 200;
  });
  t.pass('proxies once the replica passed its check');
  t.notMatch(router.output(), new RegExp(TOKEN), 'the admin token never appears in the logs');
  t.equal(await router.stop('SIGTERM'), 0, 'exit 0 after SIGTERM');
});

t.test('warm_up: not ready until it has served itself through a real replica, and counts none of it', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const router = await startProcess(
    { ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '100', ROUTER_COALESCE_MAX_BATCH: '16', ROUTER_RATE_LIMIT_MAX: '2', ROUTER_WARM_UP_REQUESTS: '400' },
    ENTRY,
  );
  t.teardown(() => router.stop('SIGKILL'));
  const ready = async () => {
    const res = await request(`${router.url}/health/ready`);
    return { status: res.statusCode, body: (await res.body.json()) as { status: string } };
  };
  t.same(await ready(), { status: 503, body: { status: 'warming up' } }, 'listening, and not ready: no replica to warm up against yet');

  const replica = await startProcess({ MODEL_DIR: await fixtureBundleDir() }, SERVICE_ENTRY);
  t.teardown(() => replica.stop('SIGKILL'));
  const registered = await request(`${router.url}/admin/replicas`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ environment: 'blue', url: replica.url }) });
  t.equal(registered.statusCode, 201);
  await registered.body.dump();
  await until(async () => (await ready()).status === 200, 30_000);
  t.match(router.output(), /warmed up with 400 requests in \d+ ms/);

  // The replica served them (its own metrics count what it did) ...
  const served = await (await request(`${replica.url}/metrics`)).body.text();
  t.ok(metricSum(served, 'inference_predictions_total') >= 400, 'the replica predicted every warm-up text');
  // ... and the router counted none as a prediction.
  const metrics = await (await request(`${router.url}/metrics`)).body.text();
  t.equal(metricSum(metrics, 'sentiment_api_requests_total'), 0, 'no request counted');
  const stats = (await (await request(`${router.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.json()) as { environments: Record<string, { requests: number }> };
  t.equal(stats.environments.blue?.requests ?? 0, 0, 'nothing in the windows');
  // The warm-up's 400 requests came from 127.0.0.1 too: this client still has its allowance of 2.
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await request(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"good"}' });
    statuses.push(res.statusCode);
    await res.body.dump();
  }
  t.same(statuses, [200, 200, 429]);
});

t.test('warm_up: SIGTERM while it waits for replicas exits 0', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const router = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_WARM_UP_REQUESTS: '1000' }, ENTRY);
  t.teardown(() => router.stop('SIGKILL'));
  await until(async () => /warming up/.test(router.output()));
  t.equal(await router.stop('SIGTERM'), 0, 'exit 0');
  t.match(router.output(), /shutdown complete/);
  t.notMatch(router.output(), /warmed up/);
});
