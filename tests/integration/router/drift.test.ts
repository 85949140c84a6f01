// Drift through a real router in front of a real replica (1.1.0, whose metadata holds its reference
// profile on SST dev): SST sentences leave it undrifted; truncated texts are flagged by the length
// test, in GET /admin/drift with statistic, p-value, threshold and window, in the report and in
// the metrics.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { DriftView } from '../../../router/src/drift/schema.ts';
import type { ExperimentReport } from '../../../router/src/experiments/schema.ts';
import { ROOT, startProcess } from '../../../testkit/processes.ts';
import { auth, buildRouter, untilAllAvailable, weightsFile } from '../../helpers/router.ts';

const sample = fs.readFileSync(path.join(ROOT, 'deploy/demo/sst3-sample.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim()).map((l) => l.split('\t')[0]);

t.test('drift per version: SST sentences pass, truncated texts are flagged with the test that caught them', async (t) => {
  const replica = await startProcess({ MODEL_DIR: path.join(ROOT, 'models/sentiment/1.1.0'), PORT: '0', INFERENCE_WORKERS: '0', BATCH_MAX_WAIT_MS: '0' });
  t.teardown(() => replica.stop('SIGKILL'));
  const file = await weightsFile(t, `environments:\n  green: { weight: 100, replicas: [${replica.url}] }\n`);
  const app = await buildRouter(t, file, { drift: { windowRequests: 400, minRequests: 200, alpha: 0.001 } });
  await untilAllAvailable(app);
  const send = async (texts: string[]) => {
    for (const text of texts) {
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { text } });
      if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
    }
  };
  const drift = async () => ((await app.inject({ url: '/admin/drift', headers: auth })).json() as DriftView).environments[0];

  await send(sample.slice(0, 100));
  const early = await drift();
  t.same([early.environment, early.model_version, early.requests, early.tests.length], ['green', '1.1.0', 100, 0], 'under min_requests: not tested yet');
  t.match(early.reference, /^sst3\/dev\.tsv \(1101 predictions\)$/, "the bundle's reference, read from the replica");

  await send(sample.slice(100, 400));
  const calm = await drift();
  t.equal(calm.requests, 400);
  t.same(calm.tests.map((x) => x.name), ['label_mix', 'confidence', 'length', 'unknown_pieces'], 'four tests against the reference (green is the control arm itself)');
  t.equal(calm.drifted, false, `SST test sentences: no drift (${calm.tests.map((x) => `${x.name} p = ${x.p_value}`).join(', ')})`);

  await send(sample.slice(0, 300).map((s) => s.split(' ').slice(0, 2).join(' ')));
  const shifted = await drift();
  t.equal(shifted.drifted, true, 'truncated texts: drifted');
  const length = shifted.tests.find((x) => x.name === 'length')!;
  t.ok(!length.passed && length.statistic > 0.3 && length.p_value < length.threshold && length.window === 400 && length.compared_with === 1101, `length: D ${length.statistic}, p ${length.p_value} < ${length.threshold}, window ${length.window} against ${length.compared_with}`);

  const report = (await app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport;
  const inReport = report.versions[0].drift;
  t.ok(inReport?.drifted && inReport.failed.some((f) => /^length against reference \(p = .+ < .+\)$/.test(f)), `in the report: ${inReport?.failed.join('; ')}`);
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /model_drift_detected\{environment="green",model_version="1\.1\.0"[^}]*\} 1/, 'in the metrics');
  t.match(metrics, /model_drift_p_value\{environment="green",model_version="1\.1\.0",test="length",against="reference"[^}]*\} [\d.e-]+/);
});
