// Feedback and the A/B report on real inference processes: labelled sentences are predicted
// through the router, their true labels sent as feedback, and the report's online accuracy per
// version is checked against an offline evaluation of the same bundles on the same sentences.
import t from 'tap';
import path from 'node:path';
import { request } from 'undici';
import { readTsv } from '../../../models/tools/trainer/data.ts';
import type { ExperimentReport } from '../../../router/src/experiments/schema.ts';
import { DATA_DIR, SKIP_NO_DATA } from '../../helpers/data.ts';
import { auth, buildRouter, untilAllAvailable, weightsFile } from '../../helpers/router.ts';
import { ROOT, startProcess } from '../../../testkit/processes.ts';

const SENTENCES = 300;
const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
};

t.test('online accuracy from feedback matches an offline evaluation of the same bundles', { skip: SKIP_NO_DATA }, async (t) => {
  const sentences = readTsv(path.join(DATA_DIR as string, 'sst3', 'test.tsv')).slice(0, SENTENCES);
  // Each one is stopped with the test even when the other fails to start.
  const [blue, green] = await Promise.all(
    ['1.0.0', '1.1.0'].map(async (version) => {
      const replica = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: version, INFERENCE_WORKERS: '0' });
      t.teardown(() => replica.stop('SIGKILL'));
      return replica;
    }),
  );
  const app = await buildRouter(t, await weightsFile(t, `assignment: { header: X-User-Id }\nenvironments:\n  blue: { weight: 50, replicas: [${blue.url}] }\n  green: { weight: 50, replicas: [${green.url}] }\n`));
  await untilAllAvailable(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });

  // Through the router, each sentence sticks to one environment by its index; then its feedback.
  const routed: Record<string, { correct: number; n: number; texts: { text: string; label: string }[] }> = { '1.0.0': { correct: 0, n: 0, texts: [] }, '1.1.0': { correct: 0, n: 0, texts: [] } };
  for (const [i, s] of sentences.entries()) {
    const answer = await post(`${url}/predict`, { text: s.text }, { 'x-user-id': `user-${i}` });
    t.equal(answer.status, 200);
    const version = answer.headers['x-model-version'] as string;
    routed[version].n++;
    routed[version].texts.push(s);
    if (answer.body.sentiment === s.label) routed[version].correct++;
    const fed = await post(`${url}/feedback`, { request_id: answer.headers['x-request-id'], label: s.label });
    t.equal(fed.status, 202);
  }
  const again = await post(`${url}/feedback`, { request_id: 'no-such-request', label: 'positive' });
  t.equal(again.status, 404, 'feedback for an unknown request id is a 404');
  t.equal(again.body.code, 'ERR_PREDICTION_NOT_FOUND');

  const report = (await app.inject({ url: '/admin/experiments/report?baseline=blue', headers: auth })).json() as ExperimentReport;
  t.equal(report.baseline, 'blue');
  for (const [version, direct] of [['1.0.0', blue.url], ['1.1.0', green.url]] as const) {
    const row = report.versions.find((v) => v.model_version === version);
    if (!row) throw new Error(`no report row for ${version}`);
    t.equal(row.online_accuracy.feedback, routed[version].n, `${version}: every feedback attributed to the version that answered`);
    t.equal(row.online_accuracy.correct, routed[version].correct, `${version}: online accuracy equals what the client saw`);
    // Offline: the same bundle on every sentence, straight from its replica.
    let correct = 0;
    for (let i = 0; i < sentences.length; i += 64) {
      const batch = sentences.slice(i, i + 64);
      const res = await post(`${direct}/predict/batch`, { texts: batch.map((s) => s.text) });
      (res.body.predictions as { sentiment: string }[]).forEach((p, j) => (correct += p.sentiment === batch[j].label ? 1 : 0));
    }
    const offline = correct / sentences.length;
    const [lo, hi] = row.online_accuracy.ci95 ?? [0, 0];
    t.ok(offline >= lo && offline <= hi, `${version}: offline accuracy ${offline.toFixed(3)} on all ${sentences.length} sentences lies in the online 95% interval [${lo}, ${hi}] from ${row.online_accuracy.feedback} labels`);
    t.ok(Object.keys(row.label_distribution).length > 0, `${version}: label mix ${JSON.stringify(row.label_distribution)}`);
    t.type(row.mean_confidence, 'number');
  }
  const green_ = report.versions.find((v) => v.environment === 'green');
  t.ok(['promote', 'keep', 'roll_back'].includes(green_?.recommendation.action ?? ''), `recommendation for green: ${green_?.recommendation.action} (${green_?.recommendation.reasons.join('; ')})`);
  t.ok(green_?.vs_baseline, 'compared with blue');
  t.match(report.note, /proxy/, 'the report says mean confidence is only a proxy');

  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /sentiment_prediction_confidence\{backend="green",model_version="1\.1\.0",service="router"\} 0\.\d+/, "the seed's confidence metric, per version");
});
