// Request coalescing against real inference processes: concurrent /predict requests travel as
// /predict/batch calls, and every client still gets exactly what /predict would have answered.
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { auth, buildRouter, positiveBatch, replicas, slowBatchUpstream, until, untilAllAvailable, weightsFile } from '../../helpers/router.ts';
import { metricSamples, metricSum } from '../../../testkit/metrics-text.ts';
import { ROOT, startProcess } from '../../../testkit/processes.ts';

const MAX_TEXT_LENGTH = 60;

async function service(t: Parameters<typeof buildRouter>[0], version: string) {
  const svc = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: version, MAX_TEXT_LENGTH: String(MAX_TEXT_LENGTH) });
  t.teardown(() => svc.stop('SIGKILL'));
  return svc;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await request(`${url}/predict`, { method: 'POST', headers, body });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
}

/** Runs tasks with at most `limit` in flight. */
async function concurrently<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  }));
  return out;
}

const withoutLatency = ({ latency_ms: _latency, ...rest }: Record<string, unknown>) => rest;

/**
 * Same fields, text, label and version; probabilities equal to float32 rounding (onnxruntime sums
 * a row in another order when it shares a padded batch, as the service's own batching does).
 */
function sameAnswer(t: Parameters<typeof buildRouter>[0], actual: Record<string, unknown>, expected: Record<string, unknown>) {
  const a = withoutLatency(actual);
  t.same(Object.keys(a), Object.keys(expected), 'the fields of /predict, in order');
  t.equal(a.text, expected.text);
  t.equal(a.sentiment, expected.sentiment);
  t.equal(a.model_version, expected.model_version);
  const p = a.probabilities as Record<string, number>;
  const q = expected.probabilities as Record<string, number>;
  t.ok(Object.keys(q).every((label) => Math.abs(p[label] - q[label]) < 1e-5) && Math.abs((a.confidence as number) - (expected.confidence as number)) < 1e-5, 'probabilities within 1e-5');
}

async function setup(t: Parameters<typeof buildRouter>[0], extraBlue: string[] = []) {
  const [blue, green] = await Promise.all([service(t, '1.0.0'), service(t, '1.1.0')]);
  const file = await weightsFile(
    t,
    `environments:
  blue: { weight: 60, replicas: [${[blue.url, ...extraBlue].join(', ')}] }
  green: { weight: 40, replicas: [${green.url}] }
`,
  );
  const app = await buildRouter(t, file, { coalesce: { maxBatch: 16, maxWaitMs: 2 }, health: { intervalMs: 100, timeoutMs: 500, rise: 1, fall: 2, ejectAfter: 3, ejectBaseMs: 1000, ejectMaxMs: 5000 } });
  await untilAllAvailable(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, direct: { blue: blue.url, green: green.url } as Record<string, string> };
}

const batchStats = async (app: Awaited<ReturnType<typeof setup>>['app']) => {
  const text = (await app.inject({ url: '/metrics' })).body;
  return { batches: metricSum(text, 'router_coalesced_batch_size_count'), texts: metricSum(text, 'router_coalesced_batch_size_sum'), overflows: metricSum(text, 'router_coalesced_overflow_total') };
};

t.test('300 concurrent predictions travel in batches and each answer equals the service’s own /predict', async (t) => {
  const { app, url, direct } = await setup(t);
  const texts = Array.from({ length: 30 }, (_, i) => `a ${['gripping', 'dull', 'charming', 'lifeless', 'fine'][i % 5]} film , take ${i}`);
  const answers = await concurrently(
    Array.from({ length: 300 }, (_, i) => () => post(url, JSON.stringify({ text: texts[i % texts.length] }), { 'content-type': 'application/json', 'x-request-id': `req-${i}` })),
    50,
  );
  const expected = new Map<string, Record<string, unknown>>();
  for (const env of ['blue', 'green']) for (const text of texts) expected.set(`${env}\u0000${text}`, withoutLatency((await post(direct[env], JSON.stringify({ text }))).body));
  answers.forEach((a, i) => {
    t.equal(a.status, 200);
    t.equal(a.headers['x-request-id'], `req-${i}`, 'each client keeps its request id');
    t.equal(a.headers['content-type'], 'application/json; charset=utf-8');
    const env = a.headers['x-environment'] as string;
    t.equal(a.body.model_version, env === 'blue' ? '1.0.0' : '1.1.0');
    t.type(a.body.latency_ms, 'number');
    sameAnswer(t, a.body, expected.get(`${env}\u0000${texts[i % texts.length]}`)!);
  });
  const { batches, texts: coalesced } = await batchStats(app);
  t.equal(coalesced, 300, 'every prediction went through a batch');
  t.ok(batches < 300, `300 predictions took ${batches} batch calls`);
});

t.test('a body that is not exactly {"text"} is proxied as it came; a text the service refuses is answered on its own', async (t) => {
  const { url, direct } = await setup(t);
  const cases: [string, string, Record<string, string>?][] = [
    ['blank text', JSON.stringify({ text: '   ' })],
    ['text over the limit', JSON.stringify({ text: 'x'.repeat(MAX_TEXT_LENGTH + 1) })],
    ['extra field', JSON.stringify({ text: 'good', extra: 1 })],
    ['text not a string', JSON.stringify({ text: 5 })],
    ['broken JSON', '{"text": "go'],
    ['a JSON array', '["good"]'],
    ['form content type', 'text=good', { 'content-type': 'application/x-www-form-urlencoded' }],
  ];
  // Each bad request travels among good ones, so the refused texts share batches with valid ones.
  const wave = cases.flatMap(([name, body, headers]) => [
    { name, run: () => post(url, body, headers) },
    { name: 'good', run: () => post(url, JSON.stringify({ text: 'a charming film' })) },
  ]);
  const answers = await concurrently(wave.map((w) => w.run), 14);
  for (const [i, w] of wave.entries()) {
    const a = answers[i];
    if (w.name === 'good') {
      t.equal(a.status, 200, 'a valid text sharing the wave is answered');
      continue;
    }
    const [, body, headers] = cases.find(([name]) => name === w.name)!;
    const own = await post(direct.blue, body, headers);
    t.equal(a.status, own.status, `${w.name}: same status as the service`);
    t.ok(a.status >= 400 && a.status < 500, `${w.name}: a client error`);
    t.same(a.body, own.body, `${w.name}: same error body as the service`);
  }
});

t.test('a replica killed mid-load: its batches are retried on the other, no client errors', async (t) => {
  const doomed = await service(t, '1.0.0');
  const { url } = await setup(t, [doomed.url]);
  let answered = 0;
  const answers = await concurrently(
    Array.from({ length: 400 }, () => async () => {
      const a = await post(url, JSON.stringify({ text: 'a charming film' }));
      if (++answered === 100) doomed.proc.kill('SIGKILL');
      return a;
    }),
    20,
  );
  t.equal(doomed.proc.signalCode ?? (await doomed.exited, doomed.proc.signalCode), 'SIGKILL', 'the replica was killed mid-load');
  t.same(answers.map((a) => a.status), answers.map(() => 200), 'all 400 answered 200');
});

t.test('a stalled replica: the next batch is sent without waiting for the stuck one to come back', async (t) => {
  const svc = await service(t, '1.0.0');
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${svc.url}] }\n`);
  // Health checks slow and patient enough that the stopped replica stays in rotation meanwhile.
  const app = await buildRouter(t, file, { coalesce: { maxBatch: 16, maxWaitMs: 2 }, health: { intervalMs: 1000, timeoutMs: 5000, rise: 1, fall: 3, ejectAfter: 3, ejectBaseMs: 1000, ejectMaxMs: 5000 } });
  await untilAllAvailable(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  for (let i = 0; i < 20; i++) t.equal((await post(url, JSON.stringify({ text: `warm-up ${i}` }))).status, 200, 'learns the usual round trip');
  const overflows = async () => (await batchStats(app)).overflows;
  t.equal(await overflows(), 0, 'no overflow while the replica answers promptly');

  svc.proc.kill('SIGSTOP');
  t.teardown(() => svc.proc.kill('SIGCONT'));
  const stuck = post(url, JSON.stringify({ text: 'sent to a stopped replica' }));
  await until(async () => (await replicas(app))[0].in_flight === 1);
  const behind = post(url, JSON.stringify({ text: 'arrives while the first is stuck' }));
  await until(async () => (await overflows()) === 1);
  t.equal((await replicas(app))[0].in_flight, 2, 'the second batch left while the first was still out');
  svc.proc.kill('SIGCONT');
  const [a, b] = await Promise.all([stuck, behind]);
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  t.equal(b.body.text, 'arrives while the first is stuck');
});

async function routerBefore(t: Parameters<typeof buildRouter>[0], upstream: string, maxBatch: number, coalesce: { busyIntervalMs?: number; busyRequests?: number; busyUtilization?: number; lightRequests?: number } = {}) {
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${upstream}] }\n`);
  const app = await buildRouter(t, file, { coalesce: { maxBatch, maxWaitMs: 2, ...coalesce } });
  await untilAllAvailable(app);
  return app;
}

const injectPredict = (app: Awaited<ReturnType<typeof buildRouter>>, text: string) =>
  app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text }) });

/** A metric's value (the first series when it has labels). */
const metric = async (app: Awaited<ReturnType<typeof buildRouter>>, name: string) => metricSamples((await app.inject({ url: '/metrics' })).body, name)[0] ?? 0;

t.test('a busy router sends an environment’s batches busy_interval_ms apart: the requests in between go as one; below busy_requests, none wait', async (t) => {
  const burst = async (app: Awaited<ReturnType<typeof buildRouter>>) => {
    t.equal((await injectPredict(app, 'the first leaves at once')).statusCode, 200);
    // Sent right after the first answer: well within the interval.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => injectPredict(app, `text ${i}`)));
    t.ok(answers.every((a, i) => a.statusCode === 200 && a.json().text === `text ${i}`), 'each request got its own answer');
  };

  // Busy from one request held, however little the event loop runs: the ten wait out the
  // interval after the first batch.
  const spaced = await routerBefore(t, await slowBatchUpstream(t, 0, positiveBatch), 16, { busyIntervalMs: 3000, busyRequests: 1, busyUtilization: 0 });
  await burst(spaced);
  t.same(await batchStats(spaced), { batches: 2, texts: 11, overflows: 0 }, 'the ten found the slot free, waited for the interval and left together');
  t.equal(await metric(spaced, 'router_coalesced_spaced_total'), 1, 'the held batch is counted');
  t.equal(await metric(spaced, 'router_coalesced_held'), 0, 'nothing held once all are answered');
  const utilization = await metric(spaced, 'router_event_loop_utilization');
  t.ok(utilization >= 0 && utilization <= 1, `router_event_loop_utilization is a share (${utilization})`);

  // The same interval, but busy only from 20 held: ten never are, so none waits for it.
  const quiet = await routerBefore(t, await slowBatchUpstream(t, 0, positiveBatch), 16, { busyIntervalMs: 3000, busyRequests: 20, busyUtilization: 0 });
  await burst(quiet);
  t.ok((await batchStats(quiet)).batches > 2, 'the first of the ten left at once, the rest behind it');
  t.equal(await metric(quiet, 'router_coalesced_spaced_total'), 0, 'no batch spaced');
});

t.test('under light load (fewer than light_requests held) a request leaves at once past its environment’s batch out; above it, requests wait for that batch', async (t) => {
  // Every batch takes 400 ms: long enough that the first is still out when the others arrive.
  const app = await routerBefore(t, await slowBatchUpstream(t, 400, positiveBatch), 16, { lightRequests: 3 });
  const first = injectPredict(app, 'out first');
  await until(async () => (await replicas(app))[0].in_flight === 1);
  const second = injectPredict(app, 'two held: light');
  await until(async () => (await replicas(app))[0].in_flight === 2);
  t.equal(await metric(app, 'router_coalesced_light_total'), 1, 'the second left beside the first, counted as light');
  t.equal((await batchStats(app)).overflows, 0, 'and not as an overflow');
  // Three and four held: no longer light, so both wait for a batch to come back and leave together.
  const rest = [injectPredict(app, 'three held'), injectPredict(app, 'four held')];
  const answers = await Promise.all([first, second, ...rest]);
  t.same(answers.map((a) => [a.statusCode, a.json().text]), [[200, 'out first'], [200, 'two held: light'], [200, 'three held'], [200, 'four held']]);
  t.same(await batchStats(app), { batches: 3, texts: 4, overflows: 0 }, 'two batches of one, then the two that waited as one');
  t.equal(await metric(app, 'router_coalesced_light_total'), 1);
});

t.test('a full coalescing queue answers 503 overloaded with Retry-After; the queued requests are served', async (t) => {
  // The first batch is held while the burst arrives; the queue behind it then drains quickly.
  const upstream = await slowBatchUpstream(t, (n) => (n === 0 ? 300 : 2), positiveBatch);
  // maxBatch 1: one batch in flight (one replica) and a queue of 64 behind it.
  const app = await routerBefore(t, upstream, 1);
  const answers = await Promise.all(Array.from({ length: 80 }, (_, i) => injectPredict(app, `text ${i}`)));
  const overloaded = answers.filter((a) => a.statusCode === 503);
  t.equal(overloaded.length, 80 - 1 - 64, 'what neither the batch in flight nor the queue could take');
  for (const a of overloaded) {
    t.same(a.json().error, 'overloaded');
    t.equal(a.headers['retry-after'], '1');
  }
  const served = answers.filter((a) => a.statusCode === 200);
  t.equal(served.length, 65);
  t.ok(served.every((a) => a.json().text.startsWith('text ') && a.json().model_version === '1.0.0'));
});

t.test('a replica with two inference workers gets two batches in flight, without overflow', async (t) => {
  const svc = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: '1.0.0', INFERENCE_WORKERS: '2' });
  t.teardown(() => svc.stop('SIGKILL'));
  t.equal(((await (await request(`${svc.url}/info`)).body.json()) as { concurrency: number }).concurrency, 2, 'the service says it runs two batches at once');

  for (const [concurrency, expected] of [[2, 2], [undefined, 1]] as const) {
    const upstream = await slowBatchUpstream(t, 400, positiveBatch, concurrency);
    const app = await routerBefore(t, upstream, 1);
    t.equal((await replicas(app))[0].concurrency, expected, `a replica whose /info says ${concurrency ?? 'nothing'}: concurrency ${expected}`);
    const sent = Array.from({ length: 3 }, (_, i) => injectPredict(app, `text ${i}`));
    await until(async () => (await replicas(app))[0].in_flight === expected);
    const stats = await batchStats(app);
    t.equal(stats.batches, expected, `${expected} batch(es) out at once, as many as the replica runs`);
    t.equal(stats.overflows, 0, 'none of them an overflow');
    t.ok((await Promise.all(sent)).every((a) => a.statusCode === 200));
  }
});

t.test('an environment with coalesce: false is proxied request by request; setting it back in the file coalesces again', async (t) => {
  const svc = await service(t, '1.0.0');
  const yaml = (coalesce: boolean) => `environments:\n  blue: { weight: 1, coalesce: ${coalesce}, replicas: [${svc.url}] }\n`;
  const file = await weightsFile(t, yaml(false));
  const app = await buildRouter(t, file, { coalesce: { maxBatch: 16, maxWaitMs: 2 } });
  await untilAllAvailable(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const wave = () => concurrently(Array.from({ length: 60 }, (_, i) => () => post(url, JSON.stringify({ text: `a fine film ${i}` }))), 20);
  const config = async () => (await app.inject({ url: '/admin/config', headers: auth })).json() as { generation: number; environments: { name: string; coalesce: boolean }[] };

  t.equal((await config()).environments[0].coalesce, false, 'the admin view shows it');
  const alone = await wave();
  t.ok(alone.every((a) => a.status === 200 && a.body.text !== undefined), 'all 60 answered');
  t.same(await batchStats(app), { batches: 0, texts: 0, overflows: 0 }, 'no batch call made');

  const generation = (await config()).generation;
  await fs.writeFile(file, yaml(true));
  await until(async () => (await config()).generation > generation);
  t.equal((await config()).environments[0].coalesce, true);
  t.ok((await wave()).every((a) => a.status === 200), 'all 60 answered');
  t.equal((await batchStats(app)).texts, 60, 'every prediction went through a batch');
});

t.test('a batch answer that does not fit the batch is a 502, not a wrong prediction', async (t) => {
  const upstream = await slowBatchUpstream(t, 0, () => ({ predictions: [], count: 0, latency_ms: 1, model_version: '1.0.0' }));
  const app = await routerBefore(t, upstream, 8);
  const res = await injectPredict(app, 'a fine film');
  t.equal(res.statusCode, 502);
  t.same(res.json().error, 'bad_gateway');
});
