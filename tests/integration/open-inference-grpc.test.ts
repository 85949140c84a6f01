// The Open Inference Protocol's gRPC service as its own clients see it: a client built from the
// published open_inference_grpc.proto (OPEN_INFERENCE_DIR, which .ci/run sets; skipped, saying
// why, when it is not there) calls a real replica and a router in front of real replicas, and
// every answer is checked against the REST answer to the same question. Through the router, the
// split over 3,000 ModelInfer calls follows the weights.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { loadInferenceService } from '../../shared/grpc/proto.ts';
import { decodeRawBytes, encodeRawBytes } from '../../shared/grpc/tensors.ts';
import { fixtureBundleDir } from '../helpers/build-app.ts';
import { auth, buildRouter, replicas as replicasOf, until, weightsFile } from '../helpers/router.ts';
import { startProcess, type RunningProcess } from '../../testkit/processes.ts';
import { metricSamples, sumBy } from '../../testkit/metrics-text.ts';

const DIR = process.env.OPEN_INFERENCE_DIR;
const PROTO = DIR ? path.join(DIR, 'open_inference_grpc.proto') : undefined;
const skip = PROTO && fs.existsSync(PROTO) ? false : "OPEN_INFERENCE_DIR is not set to the protocol's folder (../shared/protocols/open-inference): the client is built from its published open_inference_grpc.proto";

type Unary = (request: object, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, response: any) => void) => grpc.ClientUnaryCall;

/** A client of the published proto, with each RPC as a promise (answer, or the gRPC error). */
function client(t: Test, address: string) {
  const Client = loadInferenceService(PROTO);
  const stub = new Client(address, grpc.credentials.createInsecure()) as unknown as Record<string, Unary> & grpc.Client;
  t.teardown(() => stub.close());
  return async (method: string, req: object, meta: Record<string, string> = {}) => {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(meta)) metadata.set(k, v);
    let headers: grpc.Metadata | undefined;
    const answer = await new Promise<{ ok: true; value: any } | { ok: false; code: number; details: string; errorCode?: string }>((resolve) => {
      const call = stub[method](req, metadata, (err, value) => resolve(err ? { ok: false, code: err.code, details: err.details, errorCode: err.metadata.get('error-code')[0] as string | undefined } : { ok: true, value }));
      call.on('metadata', (m) => (headers = m));
    });
    return { ...answer, headers };
  };
}

async function rest(base: string | FastifyInstance, method: 'GET' | 'POST', url: string, body?: unknown) {
  if (typeof base !== 'string') {
    const res = await base.inject({ method, url, payload: body as object });
    return { status: res.statusCode, body: res.json() };
  }
  const res = await request(`${base}${url}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

const TEXTS = ['a triumph', 'a dull , lifeless mess', 'the parcel came on tuesday'];
const BYTES = (texts: string[]) => [{ name: 'text', datatype: 'BYTES', shape: [texts.length], contents: { bytes_contents: texts.map((s) => Buffer.from(s)) } }];
const readRaw = (buffer: Buffer, datatype: string): (string | number)[] =>
  datatype === 'FP32' ? Array.from(new Float32Array(new Uint8Array(buffer).buffer)) : decodeRawBytes(buffer, 'output').map(String);
const close = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-6);

/** Every RPC of the service, each answer equal to the REST answer to the same question. */
async function conformance(t: Test, who: string, grpcAddress: string, restBase: string | FastifyInstance, model: { name: string; version: string }) {
  const call = client(t, grpcAddress) as (method: string, req: object) => Promise<any>;
  t.same((await call('ServerLive', {})).value, { live: true }, `${who}: ServerLive`);
  t.same((await call('ServerReady', {})).value, { ready: true }, `${who}: ServerReady`);
  t.same((await call('ServerMetadata', {})).value, (await rest(restBase, 'GET', '/v2')).body, `${who}: ServerMetadata equals GET /v2`);
  for (const version of ['', model.version]) {
    const meta = await call('ModelMetadata', { name: model.name, version });
    const { properties, ...grpcMeta } = meta.value;
    t.same(properties, {}, `${who}: no properties`);
    t.same(grpcMeta, (await rest(restBase, 'GET', `/v2/models/${model.name}${version ? `/versions/${version}` : ''}`)).body, `${who}: ModelMetadata (version "${version}") equals REST`);
    t.same((await call('ModelReady', { name: model.name, version })).value, { ready: true }, `${who}: ModelReady (version "${version}")`);
  }
  const missing = await call('ModelReady', { name: model.name, version: '9.9.9' });
  t.match(missing, { ok: false, code: grpc.status.NOT_FOUND }, `${who}: a version nobody serves is NOT_FOUND`);

  const restAnswer = (await rest(restBase, 'POST', `/v2/models/${model.name}/infer`, { id: 'r1', inputs: [{ name: 'text', shape: [TEXTS.length], datatype: 'BYTES', data: TEXTS }] })).body;
  const restOut = Object.fromEntries(restAnswer.outputs.map((o: { name: string; data: unknown[] }) => [o.name, o.data]));
  const contents = await call('ModelInfer', { model_name: model.name, id: 'g1', inputs: BYTES(TEXTS) });
  t.ok(contents.ok, `${who}: ModelInfer with contents answers`);
  const out = Object.fromEntries(contents.value.outputs.map((o: any) => [o.name, o]));
  t.same(out.label.contents.bytes_contents.map(String), restOut.label, `${who}: the labels equal REST's`);
  t.ok(close(out.probabilities.contents.fp32_contents, restOut.probabilities as number[]), `${who}: the probabilities equal REST's`);
  const restShape = Object.fromEntries(restAnswer.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]));
  t.same([out.label.shape, out.probabilities.shape, out.label.datatype, out.probabilities.datatype], [restShape.label, restShape.probabilities, 'BYTES', 'FP32'], `${who}: shapes and datatypes as REST's`);
  t.same([contents.value.id, contents.value.model_name, contents.value.model_version], ['g1', model.name, model.version], `${who}: id, model and version`);

  const raw = await call('ModelInfer', { model_name: model.name, model_version: model.version, inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 3] }], raw_input_contents: [encodeRawBytes(TEXTS)] });
  t.ok(raw.ok, `${who}: versioned ModelInfer with raw_input_contents answers`);
  t.equal(raw.value.raw_output_contents.length, 2, `${who}: raw in, raw out`);
  const rawOut = Object.fromEntries(raw.value.outputs.map((o: any, i: number) => [o.name, readRaw(raw.value.raw_output_contents[i], o.datatype)]));
  t.same(rawOut.label, restOut.label, `${who}: raw labels equal REST's`);
  t.ok(close(rawOut.probabilities as number[], restOut.probabilities as number[]), `${who}: raw probabilities equal REST's`);

  const labelOnly = await call('ModelInfer', { model_name: model.name, inputs: BYTES(TEXTS.slice(0, 1)), outputs: [{ name: 'label' }] });
  t.same(labelOnly.value.outputs.map((o: any) => o.name), ['label'], `${who}: only the requested output`);

  const bad: [string, object, number][] = [
    ['a FP32 input', { model_name: model.name, inputs: [{ name: 'text', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] }, grpc.status.INVALID_ARGUMENT],
    ['a shape that does not match the data', { model_name: model.name, inputs: [{ ...BYTES(TEXTS)[0], shape: [5] }] }, grpc.status.INVALID_ARGUMENT],
    ['a truncated raw tensor', { model_name: model.name, inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }], raw_input_contents: [Buffer.from([9, 0, 0, 0, 97])] }, grpc.status.INVALID_ARGUMENT],
    ['a text over the length limit', { model_name: model.name, inputs: BYTES(['x'.repeat(20_000)]) }, grpc.status.INVALID_ARGUMENT],
    ['no input at all', { model_name: model.name, inputs: [] }, grpc.status.INVALID_ARGUMENT],
    ['a version nobody serves', { model_name: model.name, model_version: '9.9.9', inputs: BYTES(TEXTS) }, grpc.status.NOT_FOUND],
  ];
  for (const [what, req, code] of bad) {
    const r = await call('ModelInfer', req);
    t.match(r, { ok: false, code }, `${who}: ${what} is ${grpc.status[code]}`);
    t.match((r as { details?: string }).details, /\S/, `${who}: ${what}: with a message`);
  }
}

let replicas: RunningProcess[] = [];
t.before(async () => {
  if (skip) return;
  const dir = await fixtureBundleDir();
  replicas = await Promise.all([1, 2, 3].map(() => startProcess({ MODEL_DIR: dir, INFERENCE_WORKERS: '0' })));
});
t.teardown(() => Promise.all(replicas.map((r) => r.stop('SIGKILL'))));

t.test('a replica serves the protocol over gRPC', { skip }, async (t) => {
  t.ok(replicas[0].grpc, 'the replica says where its gRPC service listens');
  await conformance(t, 'service', replicas[0].grpc!, replicas[0].url, { name: 'bert-fixture', version: '0.0.1' });
});

t.test('the router serves it for the replicas behind it, splitting ModelInfer by the weights', { skip }, async (t) => {
  const [blue, green, canary] = replicas;
  const router = await buildRouter(t, await weightsFile(t, `assignment: { header: X-User-Id }\nenvironments:\n  blue: { weight: 70, replicas: [${blue.url}] }\n  green: { weight: 25, replicas: [${green.url}] }\n  canary: { weight: 5, replicas: [${canary.url}] }\n`));
  await until(async () => (await router.inject({ url: '/v2/health/ready' })).statusCode === 200 && (await router.inject({ url: '/admin/replicas', headers: auth })).json().every((r: { available: boolean }) => r.available), 15_000);
  const address = await router.grpc.listen('127.0.0.1', 0);
  await conformance(t, 'router', address, router, { name: 'bert-fixture', version: '0.0.1' });

  const call = client(t, address);
  const sticky = await Promise.all([1, 2, 3, 4, 5].map(() => call('ModelInfer', { model_name: 'bert-fixture', inputs: BYTES(['sticky']) }, { 'x-user-id': 'user-42' })));
  t.equal(new Set(sticky.map((r) => r.headers?.get('x-environment')[0])).size, 1, 'one user (x-user-id metadata) stays in one environment');

  // A call whose first pick cannot take traffic (on a loaded machine a health check can time out)
  // is served by another environment and counted in router_failover_total by the first pick: the
  // split is checked as decided, allowing for the calls that moved.
  const failovers = async () => sumBy((await router.inject({ url: '/metrics' })).body, 'router_failover_total', 'environment');
  const failoversBefore = await failovers();
  const CALLS = 3000;
  const seen: Record<string, number> = { blue: 0, green: 0, canary: 0 };
  let failed = 0;
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < CALLS) {
      next++;
      const r = await call('ModelInfer', { model_name: 'bert-fixture', inputs: BYTES(['a split by the weights']) });
      if (!r.ok) failed++;
      else seen[String(r.headers?.get('x-environment')[0])]++;
    }
  }));
  t.equal(failed, 0, `no failed call in ${CALLS}`);
  const failoversAfter = await failovers();
  const movedFrom = (env: string) => (failoversAfter.get(env) ?? 0) - (failoversBefore.get(env) ?? 0);
  const moved = ['blue', 'green', 'canary'].reduce((n, env) => n + movedFrom(env), 0);
  t.ok(moved <= CALLS / 10, `failovers are the exception: ${moved} of ${CALLS}`);
  for (const [env, weight] of [['blue', 70], ['green', 25], ['canary', 5]] as const) {
    const share = (100 * seen[env]) / CALLS;
    // Decided here: what it served, plus what failed over from it, less what may have come in.
    const most = (100 * (seen[env] + movedFrom(env))) / CALLS;
    const least = (100 * (seen[env] + movedFrom(env) - (moved - movedFrom(env)))) / CALLS;
    t.ok(most >= weight - 3 && least <= weight + 3, `${env}: ${share.toFixed(1)}% of the calls served (${movedFrom(env)} failed over from it, ${moved} in all) for a weight of ${weight}% (within ±3 points)`);
  }
  const text = (await router.inject({ url: '/metrics' })).body;
  const sum = (name: string, ...labels: string[]) => metricSamples(text.split('\n').filter((l) => labels.every((label) => l.includes(label))).join('\n'), name).reduce((a, b) => a + b, 0);
  const counted = sum('sentiment_api_requests_total', 'protocol="grpc"', 'status="200"');
  t.ok(counted >= CALLS, `the calls are counted in sentiment_api_requests_total{protocol="grpc"} (${counted})`);
  t.ok(sum('grpc_server_handled_total', 'grpc_method="ModelInfer"', 'grpc_code="OK"') >= CALLS, 'and in grpc_server_handled_total{grpc_method="ModelInfer",grpc_code="OK"}');
});

t.test('the router holds gRPC calls to its API keys and rate limit, and fails over like HTTP', { skip }, async (t) => {
  const [blue, green] = replicas;
  const router = await buildRouter(t, await weightsFile(t, `environments:\n  blue: { weight: 100, replicas: [${blue.url}, http://127.0.0.1:9] }\n  green: { weight: 0, replicas: [${green.url}] }\n`), { apiKeys: { inline: 'grpc-key-0123456789abcdef' }, rateLimit: { max: 40, windowMs: 60_000 } });
  const address = await router.grpc.listen('127.0.0.1', 0);
  const call = client(t, address);
  const infer = { model_name: 'bert-fixture', inputs: BYTES(['a key is needed']) };
  t.match(await call('ModelInfer', infer), { ok: false, code: grpc.status.UNAUTHENTICATED, errorCode: 'ERR_UNAUTHORIZED' }, 'no API key: UNAUTHENTICATED');
  const key = { 'x-api-key': 'grpc-key-0123456789abcdef' };
  // Once blue's live replica has passed its checks (on a loaded machine the first may come late).
  await until(async () => (await replicasOf(router)).some((r) => r.url === blue.url && r.available));
  // One of blue's two replicas refuses connections: every call is still answered (retried on the other).
  const answers = [];
  for (let i = 0; i < 20; i++) answers.push(await call('ModelInfer', infer, key));
  t.ok(answers.every((a) => a.ok), `with the key: 20 of 20 answered, a dead replica retried around ${JSON.stringify(answers.filter((a) => !a.ok))}`);
  let limited;
  for (let i = 0; i < 40 && !limited; i++) {
    const r = await call('ModelInfer', infer, key);
    if (!r.ok) limited = r;
  }
  t.match(limited, { ok: false, code: grpc.status.RESOURCE_EXHAUSTED, errorCode: 'ERR_TOO_MANY_REQUESTS' }, 'past the rate limit: RESOURCE_EXHAUSTED');
});
