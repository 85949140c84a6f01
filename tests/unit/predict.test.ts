import t from 'tap';
import { buildApp } from '../helpers/build-app.ts';
import { FIXTURE_LABELS } from '../../testkit/bert-fixture.ts';

t.test('POST /predict classifies with labels from id2label', async (t) => {
  const app = await buildApp(t);
  const res = await app.inject({ method: 'POST', url: '/predict', payload: { text: 'The film was GOOD, great!' } });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.text, 'The film was GOOD, great!');
  t.equal(body.sentiment, 'POSITIVE');
  t.same(Object.keys(body.probabilities).sort(), [...FIXTURE_LABELS].sort());
  t.ok(Math.abs(body.probabilities.NEGATIVE + body.probabilities.POSITIVE - 1) < 1e-5, 'softmax applied');
  t.equal(body.confidence, body.probabilities.POSITIVE);
  t.equal(body.model_version, '0.0.1');
  t.type(body.latency_ms, 'number');
  t.ok(res.headers['x-request-id'], 'request id returned');

  const neg = await app.inject({ method: 'POST', url: '/predict', payload: { text: 'bad and awful plot' } });
  t.equal(neg.json().sentiment, 'NEGATIVE');
});

t.test('X-Request-Id is propagated', async (t) => {
  const app = await buildApp(t);
  const res = await app.inject({ method: 'POST', url: '/predict', headers: { 'x-request-id': 'abc-123' }, payload: { text: 'good' } });
  t.equal(res.headers['x-request-id'], 'abc-123');
});

t.test('POST /predict/batch keeps order and matches single predictions', async (t) => {
  const app = await buildApp(t);
  const texts = ['good great', 'bad awful', 'the plot', 'a great film', 'awful movie'];
  const res = await app.inject({ method: 'POST', url: '/predict/batch', payload: { texts } });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.count, texts.length);
  t.equal(body.model_version, '0.0.1');
  t.same(body.predictions.map((p: { text: string }) => p.text), texts);
  for (const [i, text] of texts.entries()) {
    const single = (await app.inject({ method: 'POST', url: '/predict', payload: { text } })).json();
    t.equal(body.predictions[i].sentiment, single.sentiment, `${text}: same label alone and in a padded batch`);
    t.ok(Math.abs(body.predictions[i].confidence - single.confidence) < 1e-5, `${text}: same confidence`);
  }
});

t.test('concurrent /predict calls are coalesced into batched inference calls', async (t) => {
  // A wait no machine reaches: batches leave when full, whatever the scheduling.
  const app = await buildApp(t, { batching: { maxBatchSize: 8, maxWaitMs: 60_000, maxQueue: 256, concurrency: 1 } });
  const replies = await Promise.all(
    Array.from({ length: 16 }, (_, i) => app.inject({ method: 'POST', url: '/predict', payload: { text: i % 2 ? 'good' : 'bad' } })),
  );
  t.ok(replies.every((r) => r.statusCode === 200));
  const metrics = (await app.inject({ url: '/metrics' })).body;
  const calls = Number(/inference_batch_size_count\{[^}]*\} (\d+)/.exec(metrics)?.[1]);
  t.equal(calls, 2, '16 requests took two full batches of 8');
});

t.test('text longer than the model max length is truncated, not an error', async (t) => {
  const app = await buildApp(t);
  const res = await app.inject({ method: 'POST', url: '/predict', payload: { text: 'good '.repeat(190) } });
  t.equal(res.statusCode, 200);
  t.equal(res.json().sentiment, 'POSITIVE');
});

t.test('length-aware batching: a mixed batch is cut into runs of similar length, the answers unchanged and in order', async (t) => {
  const texts = ['good', 'a bad , awful plot and a bad film and not a good one at all , awful', 'great', 'the movie was awful and the plot was bad and not great', 'bad', 'good film'];
  const answers = async (splitCostTokens: number) => {
    const app = await buildApp(t, { batching: { maxBatchSize: texts.length, maxWaitMs: 0, maxQueue: 256, concurrency: 1, splitCostTokens } });
    const res = await app.inject({ method: 'POST', url: '/predict/batch', payload: { texts } });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    return { predictions: res.json().predictions as { sentiment: string; confidence: number }[], calls: Number(/inference_duration_seconds_count\{[^}]*\} (\d+)/.exec(metrics)?.[1]) };
  };
  const whole = await answers(0);
  const split = await answers(4);
  t.equal(whole.calls, 1, 'no split cost: one onnxruntime call');
  t.ok(split.calls > 1, `a split cost of 4 tokens: ${split.calls} calls of similar lengths`);
  t.same(split.predictions.map((p) => p.sentiment), whole.predictions.map((p) => p.sentiment), 'the same labels, each for its own text');
  t.ok(split.predictions.every((p, i) => Math.abs(p.confidence - whole.predictions[i].confidence) < 1e-5), 'the same confidences');
});
