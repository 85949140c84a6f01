// npm run demo -- --bandit: a multi-armed bandit against the running `npm start`. First each
// environment answers every labelled sentence once (forced with X-Route-To, batched), so the demo
// knows what any split would have served; then blue, green and the canary start at the seed's
// 70/25/5, a bandit over the three is started, and labelled sentences are replayed in a seeded
// order with their true labels sent as feedback after a delay (and some never sent, as in life).
// It prints the shares over time and the accuracy served so far, and at the end the regret against
// the fixed 70/25/5 split and against always serving the best environment; its last line is a JSON
// summary. The bandit is stopped at the end with its weights left in force (POST /admin/rollback
// puts back the 70/25/5 it started from).
import { parseArgs } from 'node:util';
import { OVERRIDE_HEADER, REQUEST_ID_HEADER } from '../../shared/api/headers.ts';
import { closedLoop } from '../../shared/load/closed-loop.ts';
import { Random } from '../../shared/random.ts';
import { demoSetup, fail, say } from './demo-common.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '24000' },
    rate: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
    interval: { type: 'string', default: '2' },
    floor: { type: 'string', default: '5' },
    'feedback-delay': { type: 'string', default: '2' },
    'feedback-share': { type: 'string', default: '0.9' },
    seed: { type: 'string', default: '1' },
  },
});
const REQUESTS = Number(values.requests);
const RATE = Number(values.rate);
const CONCURRENCY = Number(values.concurrency);
const INTERVAL_S = Number(values.interval);
const FLOOR = Number(values.floor);
/** Seconds between an answer and its label reaching the router. */
const FEEDBACK_DELAY_S = Number(values['feedback-delay']);
/** The share of answers whose label ever arrives. */
const FEEDBACK_SHARE = Number(values['feedback-share']);
const SEED = Number(values.seed);
const MAX_LOAD_MS = 30 * 60_000;
const FIXED: Record<string, number> = { blue: 70, green: 25, canary: 5 };
const ARMS = Object.keys(FIXED);
const BATCH = 32;

const { admin, api, sentences, source } = demoSetup();
say(`${sentences.length} labelled sentences from ${source}; ${REQUESTS} requests at most ${RATE} a second; labels arrive ${FEEDBACK_DELAY_S} s late for ${Math.round(FEEDBACK_SHARE * 100)}% of answers; seed ${SEED}`);

// What every environment answers to every sentence: the counterfactuals the regret is measured on.
const right: Record<string, Uint8Array> = {};
const versions: Record<string, string> = {};
for (const environment of ARMS) {
  right[environment] = new Uint8Array(sentences.length);
  for (let from = 0; from < sentences.length; from += BATCH) {
    const part = sentences.slice(from, from + BATCH);
    const { data, response } = await admin.POST('/predict/batch', { body: { texts: part.map((s) => s.text) }, headers: { [OVERRIDE_HEADER]: environment } });
    if (!data) fail(`${environment} did not answer a batch (${response.status}): does the deployment run blue, green and canary?`);
    versions[environment] = data.model_version;
    data.predictions.forEach((p, i) => (right[environment][from + i] = p.sentiment === part[i].label ? 1 : 0));
  }
  say(`${environment} (${versions[environment]}) answers ${pct(mean(right[environment]))} of the sentences right`);
}

const bestEnvironment = best();

// The run: 70/25/5, a fresh experiment, and the bandit.
const set = await admin.PUT('/admin/weights', { body: { weights: FIXED, backup: { blue: false } } });
if (set.error) fail(`cannot set the 70/25/5 split (${set.response.status} ${JSON.stringify(set.error)})`);
await admin.POST('/admin/bandit/stop'); // one left from an earlier run, if any
const reset = await admin.POST('/admin/experiments/reset');
if (reset.response.status !== 204) fail(`cannot reset the experiment (${reset.response.status} ${JSON.stringify(reset.error)})`);
const started = await admin.POST('/admin/bandit', { body: { arms: ARMS, interval_seconds: INTERVAL_S, floor_percent: FLOOR, min_feedback: 20, seed: SEED } });
if (!started.data) fail(`the bandit did not start (${started.response.status} ${JSON.stringify(started.error)})`);
say(`split set to blue 70 / green 25 / canary 5; experiment reset; bandit started over ${ARMS.join(', ')}: an update every ${INTERVAL_S} s, each arm at least ${FLOOR}%`);

const random = new Random(SEED);
const order = Array.from({ length: REQUESTS }, () => random.int(sentences.length));
const gets = Array.from({ length: REQUESTS }, () => random.next() < FEEDBACK_SHARE);
const counts = { answered: 0, failed: 0, correct: 0, fixed: 0, best: 0, labels: 0 };
const servedBy: Record<string, number> = {};
let slice: Record<string, number> = {};
const pendingFeedback = new Set<Promise<void>>();
const startedAt = Date.now();

const run = closedLoop(
  async (i) => {
    const k = order[i];
    const s = sentences[k];
    const answer = await api.POST('/predict', { body: { text: s.text } }).catch(() => null);
    if (!answer?.data) {
      counts.failed++;
      return;
    }
    const environment = answer.response.headers.get('x-environment') ?? '';
    counts.answered++;
    servedBy[environment] = (servedBy[environment] ?? 0) + 1;
    slice[environment] = (slice[environment] ?? 0) + 1;
    if (answer.data.sentiment === s.label) counts.correct++;
    // What the fixed split would have served here, in expectation, and what the best arm would have.
    counts.fixed += ARMS.reduce((sum, arm) => sum + (FIXED[arm] / 100) * right[arm][k], 0);
    counts.best += right[bestEnvironment][k];
    if (!gets[i]) return;
    const requestId = answer.response.headers.get(REQUEST_ID_HEADER) ?? '';
    const later: Promise<void> = new Promise<void>((resolve) => setTimeout(resolve, FEEDBACK_DELAY_S * 1000))
      .then(() => api.POST('/feedback', { body: { request_id: requestId, label: s.label } }))
      .then((r) => void (r.response.status === 202 && counts.labels++))
      .catch(() => undefined)
      .finally(() => pendingFeedback.delete(later));
    pendingFeedback.add(later);
  },
  { concurrency: CONCURRENCY, total: REQUESTS, rate: RATE, maxMs: MAX_LOAD_MS },
);

const ticker = setInterval(() => void progress(), 5000);
await run.done;
clearInterval(ticker);
await Promise.all(pendingFeedback);
await progress();
const end = (await admin.GET('/admin/bandit')).data?.bandit;
// What else decided meanwhile: the guard's vetoes and the arms the bandit then excluded.
const since = new Date(startedAt).toISOString();
for (const e of ((await admin.GET('/admin/history', { params: { query: { limit: '1000' } } })).data ?? []).reverse()) {
  if (e.at >= since && (e.kind === 'guard' || (e.kind === 'bandit' && e.action === 'excluded'))) say(`decided meanwhile: ${e.kind} ${e.action}: ${e.message}`);
}
await admin.POST('/admin/bandit/stop');
const config = (await admin.GET('/admin/config')).data;
if (!config) fail('GET /admin/config did not answer');
const finalShares = Object.fromEntries(config.environments.filter((e) => ARMS.includes(e.name)).map((e) => [e.name, round(e.share * 100, 1)]));
const n = Math.max(1, counts.answered);
const summary = {
  final_shares: finalShares,
  served_by: servedBy,
  best_environment: bestEnvironment,
  served_accuracy: round(counts.correct / n, 4),
  fixed_split_accuracy: round(counts.fixed / n, 4),
  best_accuracy: round(counts.best / n, 4),
  regret_vs_fixed_split: round(counts.fixed - counts.correct, 1),
  regret_vs_best: round(counts.best - counts.correct, 1),
  answered: counts.answered,
  failed: counts.failed,
  labels_sent: counts.labels,
  bandit_updates: end?.updates ?? 0,
  seed: SEED,
};
say(`final shares: ${Object.entries(finalShares).map(([e, s]) => `${e} ${s}%`).join(', ')} (the bandit is stopped; its weights stay: POST /admin/rollback puts back 70/25/5)`);
say(`served accuracy ${pct(summary.served_accuracy)} against ${pct(summary.fixed_split_accuracy)} for the fixed 70/25/5 split and ${pct(summary.best_accuracy)} for always ${summary.best_environment}`);
say(`regret: ${summary.regret_vs_fixed_split} wrong answers more than the fixed split would have given (negative: fewer), ${summary.regret_vs_best} more than always ${summary.best_environment}; ${counts.answered} answered, ${counts.failed} failed`);
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(counts.failed === 0 ? 0 : 1);

/** The environment that answers the most sentences right. */
function best(): string {
  return ARMS.reduce((a, b) => (mean(right[b]) > mean(right[a]) ? b : a));
}

async function progress(): Promise<void> {
  const weights = (await admin.GET('/admin/bandit')).data?.bandit?.last_update?.arms;
  const total = Object.values(slice).reduce((a, b) => a + b, 0) || 1;
  const shares = ARMS.map((e) => `${e} ${pct((slice[e] ?? 0) / total)}`).join(' / ');
  const set = weights ? weights.map((a) => `${a.environment} ${a.weight} (P(best) ${a.p_best})`).join(', ') : 'learning';
  say(`${Math.round((Date.now() - startedAt) / 1000)} s: served ${shares}; accuracy so far ${pct(counts.correct / Math.max(1, counts.answered))}; bandit: ${set}`);
  slice = {};
}

function mean(xs: Uint8Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / Math.max(1, xs.length);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
