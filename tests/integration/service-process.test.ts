// The service as users run it: a real process, real sockets, signals.
import t from 'tap';
import net from 'node:net';
import { request } from 'undici';
import { fixtureBundleDir } from '../helpers/build-app.ts';
import { until } from '../helpers/router.ts';
import { runToExit, SERVICE_ENTRY, spawnTs, startProcess } from '../../testkit/processes.ts';
import { tempFixtureBundle } from '../../testkit/bert-fixture.ts';

const post = (url: string, body: unknown) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

t.test('serves a Hugging Face-layout bundle over HTTP with no code change', async (t) => {
  const svc = await startProcess({ MODEL_DIR: await fixtureBundleDir(), BATCH_MAX_WAIT_MS: '5' });
  t.teardown(() => svc.stop('SIGKILL'));
  const res = await post(`${svc.url}/predict`, { text: 'a great film' });
  t.equal(res.statusCode, 200);
  t.equal(((await res.body.json()) as { sentiment: string }).sentiment, 'POSITIVE');

  const replies = await Promise.all(Array.from({ length: 64 }, (_, i) => post(`${svc.url}/predict`, { text: i % 2 ? 'good' : 'awful' })));
  const bodies = (await Promise.all(replies.map((r) => r.body.json()))) as { sentiment: string }[];
  t.ok(replies.every((r) => r.statusCode === 200), '64 concurrent requests answered');
  t.ok(bodies.every((b, i) => b.sentiment === (i % 2 ? 'POSITIVE' : 'NEGATIVE')), 'each answer belongs to its request');
  const metrics = await (await request(`${svc.url}/metrics`)).body.text();
  const calls = Number(/inference_batch_size_count\{[^}]*\} (\d+)/.exec(metrics)?.[1]);
  t.ok(calls < 65, `65 texts in ${calls} inference calls`);
});

t.test('WARMUP_REQUESTS: the replica serves itself before its port opens, and leaves no trace', async (t) => {
  const svc = await startProcess({ MODEL_DIR: await fixtureBundleDir(), WARMUP_REQUESTS: '300', RATE_LIMIT_MAX: '2' });
  t.teardown(() => svc.stop('SIGKILL'));
  t.match(svc.output(), /warmed up with 300 requests in \d+ ms/);
  t.ok(svc.output().indexOf('warmed up') < svc.output().indexOf('Server listening'), 'the port opens after the warm-up');
  const metrics = await (await request(`${svc.url}/metrics`)).body.text();
  t.notMatch(metrics, /^inference_predictions_total\{/m, 'no prediction counted');
  t.notMatch(metrics, /^inference_http_requests_total\{route="\/predict/m, 'no request counted');
  // The warm-up's 300 requests came from 127.0.0.1 too: this client still has its allowance of 2.
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await post(`${svc.url}/predict`, { text: 'good' });
    statuses.push(res.statusCode);
    await res.body.dump();
  }
  t.same(statuses, [200, 200, 429]);
});

t.test('WARMUP_MAX_MS bounds the warm-up, whatever its count', async (t) => {
  const svc = await startProcess({ MODEL_DIR: await fixtureBundleDir(), WARMUP_REQUESTS: '1000000', WARMUP_MAX_MS: '300' });
  t.teardown(() => svc.stop('SIGKILL'));
  t.match(svc.output(), /warmed up with \d+ requests in \d+ ms \(WARMUP_MAX_MS reached\)/);
  const res = await post(`${svc.url}/predict`, { text: 'good' });
  t.equal(res.statusCode, 200);
  await res.body.dump();
});

t.test('SIGTERM during the warm-up: the port never opens, exit 0', async (t) => {
  const proc = spawnTs(SERVICE_ENTRY, { MODEL_DIR: await fixtureBundleDir(), WARMUP_REQUESTS: '1000000', WARMUP_MAX_MS: '120000' });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  t.teardown(() => void proc.kill('SIGKILL'));
  await until(async () => /warming up/.test(output));
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0');
  t.notMatch(output, /Server listening|warm-up failed/);
  t.match(output, /shutdown complete/);
});

t.test('SIGTERM: in-flight requests finish, then exit 0', async (t) => {
  // A long batching wait keeps requests in flight when the signal arrives.
  const svc = await startProcess({ MODEL_DIR: await fixtureBundleDir(), BATCH_MAX_WAIT_MS: '1000', BATCH_MAX_SIZE: '256' });
  t.teardown(() => svc.stop('SIGKILL'));
  const inFlight = Array.from({ length: 20 }, () => post(`${svc.url}/predict`, { text: 'good' }));
  const queued = async () => Number(/^inference_queue_depth\{[^}]*\} (\d+)/m.exec(await (await request(`${svc.url}/metrics`)).body.text())?.[1]);
  await until(async () => (await queued()) === 20);
  svc.proc.kill('SIGTERM');
  const replies = await Promise.all(inFlight);
  t.same(replies.map((r) => r.statusCode), Array(20).fill(200), 'all 20 in-flight requests answered');
  await Promise.all(replies.map((r) => r.body.dump()));
  t.equal(await svc.exited, 0, 'exit code 0');
  t.match(svc.output(), /draining in-flight work/);
});

t.test('a bad bundle stops the boot with one clear message and exit 1', async (t) => {
  const dir = await tempFixtureBundle({ omit: 'tokenizer.json' });
  const { code, output } = await runToExit({ MODEL_DIR: dir });
  t.equal(code, 1);
  t.match(output, /tokenizer\.json: is missing from the bundle/);
});

t.test('invalid configuration stops the boot naming the variable', async (t) => {
  const { code, output } = await runToExit({ BATCH_MAX_SIZE: 'lots' });
  t.equal(code, 1);
  t.match(output, /BATCH_MAX_SIZE/);
});

t.test('a gRPC port already taken stops the boot naming GRPC_PORT', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as net.AddressInfo).port;
  const { code, output } = await runToExit({ MODEL_DIR: await fixtureBundleDir(), GRPC_PORT: String(port) });
  t.equal(code, 1);
  t.match(output, new RegExp(`cannot listen for gRPC on port ${port} \\(GRPC_PORT\\)`));
});
