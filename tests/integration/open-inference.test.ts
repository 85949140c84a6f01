// The Open Inference Protocol (KServe v2) REST API as its own clients expect it: every answer of
// the service, and of the router in front of a real replica, validated against the schemas of the
// protocol's published OpenAPI document (open_inference_rest.yaml, from OPEN_INFERENCE_DIR, which
// .ci/run sets; skipped, saying why, when it is not there).
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { buildApp, fixtureBundleDir } from '../helpers/build-app.ts';
import { buildRouter, until, weightsFile } from '../helpers/router.ts';
import { startProcess } from '../../testkit/processes.ts';

const DIR = process.env.OPEN_INFERENCE_DIR;
const SPEC = DIR ? path.join(DIR, 'open_inference_rest.yaml') : undefined;
const skip = SPEC && fs.existsSync(SPEC) ? false : 'OPEN_INFERENCE_DIR is not set to the protocol\'s folder (../shared/protocols/open-inference): its OpenAPI document is what answers are checked against';

/** A validator per component schema of the published document. */
function protocolSchemas() {
  const document = parse(fs.readFileSync(SPEC!, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  // OpenAPI 3.0 schemas carry keywords JSON Schema does not know (x-examples): not strict.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'oip', components: document.components });
  return (name: string) => {
    const validate = ajv.getSchema(`oip#/components/schemas/${name}`);
    if (!validate) throw new Error(`no schema ${name} in the protocol's document`);
    return (value: unknown) => (validate(value) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message}`));
  };
}

const INFER = { id: 'req-1', inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a triumph', 'a dull , lifeless mess'] }] };
const NESTED = { inputs: [{ name: 'text', shape: [1, 2], datatype: 'BYTES', data: [['a triumph', 'a dull , lifeless mess']] }], outputs: [{ name: 'label' }] };

async function conformance(t: Test, who: string, app: FastifyInstance, model: { name: string; version: string }, headers: Record<string, string> = {}) {
  const schema = protocolSchemas();
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: payload ? { 'content-type': 'application/json', ...headers } : headers, payload: payload as object });
    return { status: res.statusCode, body: res.json() };
  };
  const checks: [string, () => Promise<void>][] = [
    ['GET /v2: server metadata', async () => {
      const r = await call('GET', '/v2');
      t.equal(r.status, 200, `${who}: GET /v2 answers`);
      t.same(schema('metadata_server_response')(r.body), [], `${who}: GET /v2 is a metadata_server_response`);
    }],
    ['GET /v2/health/live', async () => {
      t.same(await call('GET', '/v2/health/live'), { status: 200, body: { live: true } }, `${who}: live`);
    }],
    ['GET /v2/health/ready', async () => {
      t.same(await call('GET', '/v2/health/ready'), { status: 200, body: { ready: true } }, `${who}: ready`);
    }],
    ['POST infer', async () => {
      const r = await call('POST', `/v2/models/${model.name}/infer`, INFER);
      t.equal(r.status, 200, `${who}: infer answers`);
      t.same(schema('inference_response')(r.body), [], `${who}: infer is an inference_response`);
      t.equal(r.body.id, 'req-1', `${who}: the request id comes back`);
    }],
    ['POST versioned infer', async () => {
      const r = await call('POST', `/v2/models/${model.name}/versions/${model.version}/infer`, INFER);
      t.equal(r.status, 200, `${who}: versioned infer answers`);
      t.same(schema('inference_response')(r.body), [], `${who}: versioned infer is an inference_response`);
      t.equal(r.body.model_version, model.version, `${who}: from that version`);
    }],
    ['POST infer with nested data', async () => {
      const r = await call('POST', `/v2/models/${model.name}/infer`, NESTED);
      t.equal(r.status, 200, `${who}: nested data in row-major order`);
      t.same(r.body.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]), [['label', [2]]], `${who}: only the requested output`);
    }],
    ['POST infer with a wrong shape', async () => {
      const r = await call('POST', `/v2/models/${model.name}/infer`, { inputs: [{ ...INFER.inputs[0], shape: [3] }] });
      t.equal(r.status, 400, `${who}: a wrong shape is a 400`);
      t.same(schema('inference_error_response')(r.body), [], `${who}: a bad request is an inference_error_response`);
    }],
    ['POST infer with the binary data extension', async () => {
      const r = await call('POST', `/v2/models/${model.name}/infer`, { ...INFER, outputs: [{ name: 'label', parameters: { binary_data: true } }] });
      t.equal(r.status, 400, `${who}: binary_data is refused clearly`);
      t.match(r.body.message, /binary tensor data extension/, `${who}: saying what is not supported`);
      t.same(schema('inference_error_response')(r.body), [], `${who}: with the protocol's error object`);
    }],
    ['POST versioned infer of a version not served', async () => {
      const r = await call('POST', `/v2/models/${model.name}/versions/9.9.9/infer`, INFER);
      t.equal(r.status, 404, `${who}: a version nobody serves is a 404`);
      t.same(schema('inference_error_response')(r.body), [], `${who}: with the protocol's error object`);
    }],
  ];
  for (const [name, check] of checks) await t.test(name, check);
}


t.test('the service speaks the protocol', { skip }, async (t) => {
  const app = await buildApp(t);
  const model = { name: 'bert-fixture', version: '0.0.1' };
  await conformance(t, 'service', app, model);
  const schema = protocolSchemas();
  for (const url of [`/v2/models/${model.name}`, `/v2/models/${model.name}/versions/${model.version}`]) {
    const r = await app.inject({ url });
    t.equal(r.statusCode, 200, `GET ${url} answers`);
    t.same(schema('metadata_model_response')(r.json()), [], `GET ${url} is a metadata_model_response`);
  }
  for (const url of [`/v2/models/${model.name}/ready`, `/v2/models/${model.name}/versions/${model.version}/ready`]) t.equal((await app.inject({ url })).statusCode, 200, `GET ${url}`);
  const wrong = await app.inject({ url: `/v2/models/${model.name}/versions/9.9.9` });
  t.equal(wrong.statusCode, 404, 'the metadata of a version not served is a 404');
  t.same(schema('metadata_model_error_response')(wrong.json()), [], 'with the protocol\'s error object');
});

t.test('the router speaks it for the replicas behind it', { skip }, async (t) => {
  const replica = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => replica.stop('SIGKILL'));
  const router = await buildRouter(t, await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${replica.url}] }\n`));
  await until(async () => (await router.inject({ url: '/v2/health/ready' })).statusCode === 200, 15_000);
  await conformance(t, 'router', router, { name: 'bert-fixture', version: '0.0.1' });
  const schema = protocolSchemas();
  for (const url of ['/v2/models/bert-fixture', '/v2/models/bert-fixture/versions/0.0.1']) {
    const r = await router.inject({ url });
    t.equal(r.statusCode, 200, `router: GET ${url} answers, from a replica`);
    t.same(schema('metadata_model_response')(r.json()), [], `router: GET ${url} is a metadata_model_response`);
  }
  for (const url of ['/v2/models/bert-fixture/ready', '/v2/models/bert-fixture/versions/0.0.1/ready']) t.same((await router.inject({ url })).json(), { ready: true }, `router: GET ${url}`);
  const wrong = await router.inject({ url: '/v2/models/bert-fixture/versions/9.9.9' });
  t.equal(wrong.statusCode, 404, 'router: the metadata of a version nobody serves is a 404');
  t.same(schema('metadata_model_error_response')(wrong.json()), [], "router: with the protocol's error object");
});
