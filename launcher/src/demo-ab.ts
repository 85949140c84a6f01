// npm run demo (the A/B demo): the seed's phases 4–5 against the running `npm start`. Blue, green and the canary at
// 70/25/5; a bounded load of labelled sentences (SENTIMENT_DATA_DIR's SST test split, or the sample
// in deploy/demo/) with the true label of each sent as feedback; the A/B report; then its decision
// carried out: environments it says to roll back leave rotation, the most accurate of the rest
// (when at least as accurate as blue) is promoted in steps with blue kept as backup, and the
// others are rolled back. Each step is printed; it ends with the final split.
import { parseArgs } from 'node:util';
import { REQUEST_ID_HEADER } from '../../shared/api/headers.ts';
import { closedLoop } from '../../shared/load/closed-loop.ts';
import { demoSetup, fail, say } from './demo-common.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, rate: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' }, pause: { type: 'string', default: '10' } } });
const REQUESTS = Number(values.requests);
/** Predictions per second at most: well inside the router's rate limit, and the machine's other work goes on. */
const RATE = Number(values.rate);
const CONCURRENCY = Number(values.concurrency);
const PAUSE_S = Number(values.pause);
/** The demo's load stops by itself after this long, whatever happens. */
const MAX_LOAD_MS = 30 * 60_000;
const { admin, api, sentences, source } = demoSetup();
say(`${sentences.length} labelled sentences from ${source}; ${REQUESTS} requests, at most ${RATE} a second, ${CONCURRENCY} at a time`);

// Phase 4: the A/B test at 70/25/5, with feedback.
const set = await admin.PUT('/admin/weights', { body: { weights: { blue: 70, green: 25, canary: 5 }, backup: { blue: false } } });
if (set.error) fail(`cannot set the 70/25/5 split (${set.response.status} ${JSON.stringify(set.error)}): does the deployment run blue, green and canary?`);
const reset = await admin.POST('/admin/experiments/reset');
if (reset.response.status !== 204) fail(`cannot reset the experiment (${reset.response.status} ${JSON.stringify(reset.error)})`);
say('split set to blue 70 / green 25 / canary 5; experiment reset');

const counts = { answered: 0, failed: 0 };
/** `total` requests at RATE a second at most, CONCURRENCY at a time, each sentence's true label sent as feedback if asked. */
function load(total: number, feedback: boolean) {
  return closedLoop(async (i) => {
    const s = sentences[i % sentences.length];
    const answer = await api.POST('/predict', { body: { text: s.text }, headers: { 'x-user-id': `demo-user-${i}` } }).catch(() => null);
    if (!answer?.data) {
      counts.failed++;
      return;
    }
    counts.answered++;
    if (feedback) await api.POST('/feedback', { body: { request_id: answer.response.headers.get(REQUEST_ID_HEADER) ?? '', label: s.label as 'negative' | 'neutral' | 'positive' } }).catch(() => null);
    if (counts.answered % 500 === 0) say(`${counts.answered} answered, ${counts.failed} failed`);
  }, { concurrency: CONCURRENCY, total, rate: RATE, maxMs: MAX_LOAD_MS });
}
await load(REQUESTS, true).done;
say(`phase 4 done: ${counts.answered} answered, ${counts.failed} failed`);

// The report, and its decision.
const { data: report } = await admin.GET('/admin/experiments/report', { params: { query: { baseline: 'blue' } } });
if (!report) fail('the A/B report did not answer');
say('the A/B report (baseline blue):');
for (const v of report.versions) {
  const a = v.online_accuracy;
  say(
    `  ${v.environment.padEnd(7)} ${v.model_version.padEnd(6)} ${String(v.requests).padStart(5)} requests, errors ${(v.error_rate * 100).toFixed(2)}%, P95 ${v.p95_ms} ms, ` +
      `accuracy ${a.accuracy ?? '-'} [${a.ci95?.join(', ') ?? '-'}] from ${a.feedback} labels, mean confidence ${v.mean_confidence?.toFixed(3) ?? '-'} (a proxy) → ${v.recommendation.action}: ${v.recommendation.reasons.join('; ')}`,
  );
}
const candidates = report.versions.filter((v) => v.environment !== 'blue');
const rollBack = candidates.filter((v) => v.recommendation.action === 'roll_back').map((v) => v.environment);
const blueAccuracy = report.versions.find((v) => v.environment === 'blue')?.online_accuracy.accuracy ?? 0;
const best = candidates
  .filter((v) => !rollBack.includes(v.environment) && (v.online_accuracy.accuracy ?? -1) >= blueAccuracy)
  .sort((a, b) => (b.online_accuracy.accuracy ?? 0) - (a.online_accuracy.accuracy ?? 0))[0];
const notPromoted = candidates.filter((v) => v.environment !== best?.environment && !rollBack.includes(v.environment)).map((v) => v.environment);
say(`decision: ${best ? `promote ${best.environment} (${best.model_version})` : 'promote nothing (no candidate at least as accurate as blue)'}; roll back ${[...rollBack, ...notPromoted].join(', ') || 'nothing'}`);

// Phase 5: roll back what the report rejects, then promote in steps under load, blue kept as backup.
const zero = [...rollBack, ...notPromoted];
if (zero.length) {
  await admin.PUT('/admin/weights', { body: { weights: Object.fromEntries(zero.map((e) => [e, 0])) } });
  say(`rolled back: ${zero.join(', ')} out of rotation`);
}
if (best) {
  const started = await admin.POST('/admin/rollouts', { body: { target: best.environment, baseline: 'blue', steps: [50, 75, 100], pause_seconds: PAUSE_S, keep_backup: true, analysis: { window_seconds: Math.max(1, Math.min(60, Math.floor(PAUSE_S))), min_requests: 20 } } });
  if (started.response.status !== 201) fail(`the rollout did not start: ${JSON.stringify(started.error)}`);
  let lastMessage = '';
  const during = load(Number.MAX_SAFE_INTEGER, false);
  for (;;) {
    const { current, last } = (await admin.GET('/admin/rollouts')).data ?? { current: null, last: null };
    const view = current ?? last;
    if (view && view.message !== lastMessage) say(`rollout: ${(lastMessage = view.message)}`);
    if (!current) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const last = (await admin.GET('/admin/rollouts')).data?.last;
  await during.stop();
  // A rollout its analysis rolls back is an outcome too: the safety net at work.
  if (last && last.state !== 'completed') say(`the rollout ended ${last.state}: ${last.message}`);
}

const config = (await admin.GET('/admin/config')).data;
if (!config) fail('GET /admin/config did not answer');
say(`final split: ${config.environments.map((e) => `${e.name} ${e.model_versions.join('+') || '-'} ${(e.share * 100).toFixed(1)}%${e.backup ? ' (backup)' : ''}`).join(', ')}`);
say(`${counts.answered} requests answered, ${counts.failed} failed`);
process.exit(counts.failed === 0 ? 0 : 1);
