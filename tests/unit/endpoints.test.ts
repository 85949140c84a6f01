import t from 'tap';
import { buildApp } from '../helpers/build-app.ts';

t.test('health endpoints', async (t) => {
  const app = await buildApp(t);
  t.same((await app.inject({ url: '/health/live' })).json(), { status: 'ok' });
  const ready = await app.inject({ url: '/health/ready' });
  t.equal(ready.statusCode, 200, 'ready after load and warm-up');
  t.same((await app.inject({ url: '/health' })).json(), { status: 'ok', model_loaded: true, version: '0.0.1', name: 'bert-fixture' });
});

t.test('GET /info returns the bundle metadata', async (t) => {
  const app = await buildApp(t);
  const info = (await app.inject({ url: '/info' })).json();
  t.equal(info.name, 'bert-fixture');
  t.same(info.labels, ['NEGATIVE', 'POSITIVE']);
  t.same(info.inputs, ['input_ids', 'attention_mask', 'token_type_ids']);
  t.equal(info.output, 'logits');
  t.equal(info.max_length, 64, 'the smallest of max_position_embeddings and model_max_length');
  t.equal(info.concurrency, app.predictor.concurrency, 'how many batches it runs at once, for a coalescing router');
  t.ok(info.concurrency >= 1);
  t.equal(info.metadata.description, 'BERT-shaped test fixture');
});

t.test('GET /metrics exposes request, inference, batch and prediction metrics', async (t) => {
  const app = await buildApp(t);
  await app.inject({ method: 'POST', url: '/predict', payload: { text: 'good' } });
  await app.inject({ method: 'POST', url: '/predict', payload: { text: '' } });
  const res = await app.inject({ url: '/metrics' });
  t.match(res.headers['content-type'], /text\/plain/);
  const m = res.body;
  t.match(m, /inference_http_requests_total\{route="\/predict",method="POST",status="200",model_name="bert-fixture",model_version="0.0.1"\} 1/);
  t.match(m, /inference_http_requests_total\{route="\/predict",method="POST",status="400"/);
  t.match(m, /inference_http_request_duration_seconds_bucket/);
  t.match(m, /inference_duration_seconds_count\{model_name="bert-fixture",model_version="0.0.1"\}/);
  t.match(m, /inference_batch_size_bucket/);
  t.match(m, /inference_prediction_confidence_bucket/);
  t.match(m, /inference_predictions_total\{label="POSITIVE",model_name="bert-fixture",model_version="0.0.1"\} 1/);
  t.match(m, /process_resident_memory_bytes/);
});

t.test('OpenAPI document and Swagger UI', async (t) => {
  const app = await buildApp(t);
  const spec = (await app.inject({ url: '/docs/json' })).json();
  t.equal(spec.openapi, '3.0.3');
  t.ok(spec.paths['/predict'].post.requestBody, '/predict documented with its body');
  t.ok(spec.paths['/predict/batch'], '/predict/batch documented');
  t.ok(spec.paths['/v2/models/{name}/infer'], 'v2 infer documented');
  const ui = await app.inject({ url: '/docs/' });
  t.equal(ui.statusCode, 200);
  t.match(ui.body, /swagger/i);
});

t.test('KServe v2 protocol', async (t) => {
  const app = await buildApp(t);
  t.same((await app.inject({ url: '/v2/health/live' })).json(), { live: true });
  t.same((await app.inject({ url: '/v2/health/ready' })).json(), { ready: true });
  t.same((await app.inject({ url: '/v2/models/bert-fixture/ready' })).json(), { ready: true });
  const meta = (await app.inject({ url: '/v2/models/bert-fixture' })).json();
  t.same(meta.versions, ['0.0.1']);
  t.same(meta.inputs, [{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
  t.equal((await app.inject({ url: '/v2/models/other' })).statusCode, 404);

  const infer = await app.inject({
    method: 'POST',
    url: '/v2/models/bert-fixture/infer',
    payload: { id: 'req-1', inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['good great', 'awful'] }] },
  });
  t.equal(infer.statusCode, 200);
  const body = infer.json();
  t.equal(body.id, 'req-1');
  t.equal(body.model_version, '0.0.1');
  const label = body.outputs.find((o: { name: string }) => o.name === 'label');
  const probs = body.outputs.find((o: { name: string }) => o.name === 'probabilities');
  t.same(label.data, ['POSITIVE', 'NEGATIVE']);
  t.same(probs.shape, [2, 2]);
  t.equal(probs.data.length, 4);

  const only = await app.inject({
    method: 'POST',
    url: '/v2/models/bert-fixture/infer',
    payload: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['good'] }], outputs: [{ name: 'label' }] },
  });
  t.same(only.json().outputs.map((o: { name: string }) => o.name), ['label']);

  const bad = [
    { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['good'] }] },
    { inputs: [{ name: 'ids', shape: [1], datatype: 'BYTES', data: ['good'] }] },
    { inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: ['good'] }] },
    { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['  '] }] },
    { inputs: [] },
  ];
  for (const payload of bad) {
    const res = await app.inject({ method: 'POST', url: '/v2/models/bert-fixture/infer', payload });
    t.equal(res.statusCode, 400, JSON.stringify(payload));
  }
});

t.test('an optional per-IP rate limit on the predict routes answers 429 with Retry-After', async (t) => {
  const app = await buildApp(t, { rateLimit: { max: 3, windowMs: 60_000 } });
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await app.inject({ method: 'POST', url: '/predict', payload: { text: 'good' } })).statusCode);
  t.same(codes, [200, 200, 200, 429, 429]);
  const limited = await app.inject({ method: 'POST', url: '/predict', payload: { text: 'good' } });
  t.ok(limited.headers['retry-after']);
  t.same(Object.keys(limited.json()).sort(), ['code', 'error', 'message']);
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, 'probes are never limited');
});
