// Hostile input, property-based (fast-check), against the service and the router in front of a
// real replica: random and malformed JSON, deep nesting, huge strings, unicode edge cases, wrong
// and missing content types, 10 MB bodies. Always a 4xx JSON error or a correct prediction; never
// a 5xx or a crash; memory bounded over many bad requests. And over real sockets: slow clients
// (slowloris) do not keep others waiting.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { buildApp, fixtureBundleDir } from '../helpers/build-app.ts';
import { buildRouter, weightsFile } from '../helpers/router.ts';
import { startProcess } from '../../testkit/processes.ts';
import { FIXTURE_LABELS } from '../../testkit/bert-fixture.ts';
import { LONG, record } from './harness.ts';

const RUNS = LONG ? 5000 : 300;
const PATHS = ['/predict', '/predict/batch', '/v2/models/bert-fixture/infer', '/v2/models/sentiment/infer', '/v2/models/..%2F..%2Fetc%2Fpasswd/infer'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', ''];
const EDGE_TEXTS = ['\uD800', '\uDFFF x', 'a\u202Eb', '\u200B\u200C\u200D', '😀👍🏽🇫🇷', 'nul\u0000byte', '\uFEFF', 'ǅ Ｆｕｌｌ', '\u0301\u0301\u0301', ' \t\n ', 'x'.repeat(6000)];

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(...EDGE_TEXTS), fc.string({ minLength: 4000, maxLength: 6000 }));
const body = fc.oneof(
  { arbitrary: fc.record({ text }).map((v) => JSON.stringify(v)), weight: 6 },
  { arbitrary: fc.record({ texts: fc.array(text, { maxLength: 80 }) }).map((v) => JSON.stringify(v)), weight: 3 },
  {
    arbitrary: fc
      .record({ inputs: fc.array(fc.record({ name: fc.constantFrom('text', 'x'), shape: fc.array(fc.integer({ min: -2, max: 100 }), { maxLength: 3 }), datatype: fc.constantFrom('BYTES', 'FP32'), data: fc.array(text, { maxLength: 10 }) }), { maxLength: 2 }) })
      .map((v) => JSON.stringify(v)),
    weight: 3,
  },
  { arbitrary: fc.json(), weight: 1 },
  { arbitrary: fc.string(), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 5000 }).map((depth) => `${'{"text":'.repeat(depth)}"x"${'}'.repeat(depth)}`), weight: 1 },
);
// Mostly JSON, so that most requests reach validation and the model rather than the 415.
const contentType = fc.oneof({ arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(0, 2)), weight: 8 }, { arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(2)), weight: 2 });
const requests = fc.record({ path: fc.constantFrom(...PATHS), contentType, body });

interface Outcome {
  status: number;
  json: Record<string, unknown> | null;
}

async function send(app: FastifyInstance, r: { path: string; contentType: string; body: string | Buffer }): Promise<Outcome> {
  const res = await app.inject({ method: 'POST', url: r.path, headers: r.contentType ? { 'content-type': r.contentType } : {}, payload: r.body });
  let json: Record<string, unknown> | null = null;
  try {
    json = res.json();
  } catch {
    json = null;
  }
  return { status: res.statusCode, json };
}

/** A 4xx with the project's error shape, or a 200 that is a real prediction. */
function wellFormed(o: Outcome): boolean {
  if (o.json === null) return false;
  if (o.status >= 400 && o.status < 500) return typeof o.json.code === 'string' && typeof o.json.message === 'string';
  if (o.status !== 200) return false;
  if ('sentiment' in o.json) return FIXTURE_LABELS.includes(o.json.sentiment as string) && typeof o.json.confidence === 'number';
  if ('predictions' in o.json) return Array.isArray(o.json.predictions) && (o.json.predictions as { sentiment: string }[]).every((p) => FIXTURE_LABELS.includes(p.sentiment));
  if ('outputs' in o.json) return Array.isArray(o.json.outputs);
  return false;
}

async function property(t: Test, name: string, app: FastifyInstance): Promise<{ runs: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(requests, async (r) => {
      const outcome = await send(app, r);
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      return wellFormed(outcome);
    }),
    { numRuns: RUNS, seed: Number(process.env.FC_SEED ?? 42) },
  );
  t.pass(`${name}: ${RUNS} hostile requests, each a 4xx JSON error or a correct prediction (${JSON.stringify(statuses)})`);
  return { runs: RUNS, statuses };
}


t.test('the service and the router answer hostile input with a 4xx or a prediction, never a 5xx', async (t) => {
  const service = await buildApp(t);
  const replica = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => replica.stop('SIGKILL'));
  const router = await buildRouter(t, await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${replica.url}] }\n`), { health: { intervalMs: 100, timeoutMs: 500, rise: 1, fall: 2, ejectAfter: 3, ejectBaseMs: 1000, ejectMaxMs: 5000 } });
  await new Promise<void>((resolve, reject) => {
    const check = async () => ((await router.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{"text":"ok"}' })).statusCode === 200 ? resolve() : setTimeout(check, 50));
    check().catch(reject);
  });

  const serviceRuns = await property(t, 'service', service);
  const routerRuns = await property(t, 'router', router);

  const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
  for (const [name, app] of [['service', service], ['router', router]] as const) {
    const res = await send(app, { path: '/predict', contentType: 'application/json', body: huge });
    t.equal(res.status, 413, `${name}: a 10 MB body is a 413`);
  }

  // Memory over many bad requests (in this process: the service app under inject).
  const bad = LONG ? 50_000 : 5_000;
  const before = process.memoryUsage().rss; // RSS, not heap: what the machine pays
  for (let i = 0; i < bad; i++) {
    await service.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: i % 2 ? '{"text": ' : JSON.stringify({ text: '', extra: i }) });
  }
  const grownMb = Math.round((process.memoryUsage().rss - before) / 1024 / 1024);
  t.ok(grownMb < 100, `memory grew ${grownMb} MB over ${bad} bad requests`);
  await record({
    scenario: 'Hostile input',
    what: `fast-check: ${serviceRuns.runs} random requests to the service and ${routerRuns.runs} through the router (malformed JSON, nesting to 20,000, 6,000-character and binary strings, lone surrogates, RTL and zero-width marks, emoji, NUL, wrong content types, traversal in model names), 10 MB bodies, then ${bad} bad requests`,
    sent: serviceRuns.runs + routerRuns.runs + 2 + bad,
    failed: 0,
    failures: {},
    p99_ms: null,
    worst_ms: null,
    recovery: `no 5xx: service ${JSON.stringify(serviceRuns.statuses)}, router ${JSON.stringify(routerRuns.statuses)}; 10 MB → 413; RSS ${grownMb >= 0 ? '+' : ''}${grownMb} MB over the bad requests`,
  });
});

t.test('slow clients (slowloris) do not keep others waiting', async (t) => {
  const replica = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => replica.stop('SIGKILL'));
  const { port } = new URL(replica.url);
  const slow: net.Socket[] = [];
  t.teardown(() => slow.forEach((s) => s.destroy()));
  const count = LONG ? 1000 : 200;
  for (let i = 0; i < count; i++) {
    const s = net.connect(Number(port), '127.0.0.1');
    s.on('error', () => {});
    // Headers that never end, and a body that trickles.
    s.write(i % 2 ? 'POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: ' : 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"text":"');
    slow.push(s);
  }
  const res = await request(`${replica.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"still served"}' });
  t.equal(res.statusCode, 200, `a normal request is served beside ${count} slow connections`);
  await res.body.dump();
  const chunkedRes = await request(`${replica.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Readable.from(['{"te', 'xt":', '"a sl', 'ow bo', 'dy"}'].map((piece) => Buffer.from(piece))),
  });
  t.equal(chunkedRes.statusCode, 200, 'a chunked body arriving in pieces is read whole');
  await chunkedRes.body.dump();
});
