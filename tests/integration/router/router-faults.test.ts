// Health and fault handling with real upstream processes and real sockets.
import t from 'tap';
import { request } from 'undici';
import { buildRouter, tinyUpstream, until, untilAllAvailable, replicas, weightsFile } from '../../helpers/router.ts';

const oneEnv = (urls: string[]) => `environments:
  blue:
    weight: 100
    replicas: [${urls.join(', ')}]
`;


t.test('a killed replica is taken out, and re-admitted when it comes back', async (t) => {
  const a = await tinyUpstream(t, 'a');
  const b = await tinyUpstream(t, 'b');
  const app = await buildRouter(t, await weightsFile(t, oneEnv([a.url, b.url])));
  await untilAllAvailable(app);

  await b.stop('SIGKILL');
  const downIn = await until(async () => !(await replicas(app)).find((u) => u.url === b.url)!.healthy);
  t.pass(`killed replica marked down after ${downIn} ms`);
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ method: 'POST', url: '/predict', payload: '{}', headers: { 'content-type': 'application/json' } });
    t.equal(res.json().upstream, 'a', 'traffic goes to the live replica');
  }

  const port = new URL(b.url).port;
  await tinyUpstream(t, 'b-again', { PORT: port });
  const upIn = await until(async () => (await replicas(app)).find((u) => u.url === b.url)!.available);
  t.pass(`restarted replica re-admitted after ${upIn} ms (rise 2)`);
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) seen.add((await app.inject({ method: 'POST', url: '/predict', payload: '{}', headers: { 'content-type': 'application/json' } })).json().upstream);
  t.ok(seen.has('b-again'), 'the re-admitted replica takes traffic again');
});

t.test('a replica failing its readiness check goes down after fall checks and up after rise', async (t) => {
  const a = await tinyUpstream(t, 'a');
  const b = await tinyUpstream(t, 'b');
  const app = await buildRouter(t, await weightsFile(t, oneEnv([a.url, b.url])));
  await untilAllAvailable(app);
  await request(`${b.url}/toggle-ready`).then((r) => r.body.dump());
  await until(async () => !(await replicas(app)).find((u) => u.url === b.url)!.healthy);
  await request(`${b.url}/toggle-ready`).then((r) => r.body.dump());
  await until(async () => (await replicas(app)).find((u) => u.url === b.url)!.healthy);
  t.pass('down on failing checks, up again on passing ones');
});

t.test('zero client errors when a replica is killed mid-load (2,000 requests at c=20)', async (t) => {
  const replicas = await Promise.all(['a', 'b', 'c'].map((n) => tinyUpstream(t, n)));
  // Health checks far apart: the kill must be absorbed by retries and ejection, not by a check.
  const app = await buildRouter(t, await weightsFile(t, oneEnv(replicas.map((r) => r.url))), {
    health: { intervalMs: 60_000, timeoutMs: 500, rise: 2, fall: 2, ejectAfter: 3, ejectBaseMs: 30_000, ejectMaxMs: 60_000 },
  });
  await untilAllAvailable(app);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });

  const total = 2000;
  let sent = 0;
  const statuses = new Map<number, number>();
  const errors: string[] = [];
  const worker = async () => {
    while (sent < total) {
      const n = sent++;
      if (n === 500) void replicas[1].stop('SIGKILL');
      try {
        const res = await request(`${address}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"good"}' });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  t.same(errors, [], 'no transport errors');
  t.same(Object.fromEntries(statuses), { 200: total }, `all ${total} answered 200`);
  const metrics = (await app.inject({ url: '/metrics' })).body;
  const retries = Number(/router_retries_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
  t.ok(retries >= 1, `${retries} requests were retried on another replica`);
  t.match(metrics, /router_ejections_total\{environment="blue",service="router"\} 1/, 'the dead replica was ejected');
});

t.test('no healthy environment: 503 with a JSON error', async (t) => {
  const a = await tinyUpstream(t, 'a', { UPSTREAM_READY: 'false' });
  const app = await buildRouter(t, await weightsFile(t, oneEnv([a.url])));
  await until(async () => (await replicas(app))[0].last_check_error === 'HTTP 503');
  const res = await app.inject({ method: 'POST', url: '/predict', payload: '{}', headers: { 'content-type': 'application/json' } });
  t.equal(res.statusCode, 503);
  t.equal(res.json().error, 'no_healthy_upstream');
});

t.test('a down environment fails over in proportion; a backup takes over when all are down', async (t) => {
  const [blue, green, canary] = await Promise.all(['blue', 'green', 'canary'].map((n) => tinyUpstream(t, n)));
  const file = await weightsFile(
    t,
    `environments:
  blue: { weight: 0, backup: true, replicas: [${blue.url}] }
  green: { weight: 80, replicas: [${green.url}] }
  canary: { weight: 20, replicas: [${canary.url}] }
`,
  );
  const app = await buildRouter(t, file);
  await untilAllAvailable(app);
  const envOf = async () => (await app.inject({ method: 'POST', url: '/predict', payload: '{}', headers: { 'content-type': 'application/json' } })).headers['x-environment'];
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add((await envOf()) as string);
  t.notOk(seen.has('blue'), 'the backup is idle while weighted environments are up');

  await green.stop('SIGKILL');
  await until(async () => !(await replicas(app)).find((u) => u.url === green.url)!.healthy);
  for (let i = 0; i < 20; i++) t.equal(await envOf(), 'canary', "green's share goes to canary");
  await canary.stop('SIGKILL');
  await until(async () => !(await replicas(app)).find((u) => u.url === canary.url)!.healthy);
  for (let i = 0; i < 10; i++) t.equal(await envOf(), 'blue', 'the backup serves when every weighted environment is down');
  t.match((await app.inject({ url: '/metrics' })).body, /router_failover_total\{environment="green"/);
});

t.test('an environment whose only replica dies: its requests are retried in another environment', async (t) => {
  const [blue, green] = await Promise.all(['blue', 'green'].map((n) => tinyUpstream(t, n)));
  const file = await weightsFile(
    t,
    `environments:
  blue: { weight: 50, replicas: [${blue.url}] }
  green: { weight: 50, replicas: [${green.url}] }
`,
  );
  const app = await buildRouter(t, file, { health: { intervalMs: 60_000, timeoutMs: 500, rise: 2, fall: 2, ejectAfter: 3, ejectBaseMs: 30_000, ejectMaxMs: 60_000 } });
  await untilAllAvailable(app);
  await blue.stop('SIGKILL');
  const answers = [];
  for (let i = 0; i < 100; i++) {
    const res = await app.inject({ method: 'POST', url: '/predict', payload: '{}', headers: { 'content-type': 'application/json' } });
    answers.push([res.statusCode, res.headers['x-environment']]);
  }
  t.ok(answers.every(([status]) => status === 200), 'every request answered 200');
  t.ok(answers.every(([, env]) => env === 'green'), 'answered by green, and labelled so');
});
