// Rollout steps and their analysis, without HTTP: the weights of each step, stickiness across the
// steps (a user moves only out of the shrinking baseline), and the analysis verdicts.
import t from 'tap';
import { analyze, ANALYSIS_DEFAULTS } from '../../../router/src/rollouts/analysis.ts';
import { defaultBaseline, stepsAhead, stepsProblem, stepWeights, type StepPlan } from '../../../router/src/rollouts/steps.ts';
import { pickSticky } from '../../../router/src/routing/weighted.ts';
import type { WindowStats } from '../../../router/src/stats/window.ts';

const before = { blue: 70, green: 25, canary: 5 };
// Green holds 25 of the pair's 95 (26%) already: the 25% step is behind it.
const plan: StepPlan = { target: 'green', baseline: 'blue', steps: stepsAhead(before, 'green', 'blue', [25, 50, 75, 100]), keepBackup: true };

t.test('each step moves the pair\'s traffic to the target, the canary untouched; the last keeps blue as backup', async (t) => {
  t.same(plan.steps, [50, 75, 100], 'a step behind the current share is skipped');
  t.same(stepWeights(before, plan, 0), { weights: { green: 47.5, blue: 47.5 }, backup: { green: false } });
  t.same(stepWeights(before, plan, 1).weights, { green: 71.25, blue: 23.75 });
  t.same(stepWeights(before, plan, 2), { weights: { green: 95, blue: 0 }, backup: { green: false, blue: true } });
  t.same(stepWeights(before, { ...plan, keepBackup: false }, 2).backup, { green: false });
  t.same(stepWeights({ blue: 0, green: 0 }, { ...plan, steps: [100] }, 0).weights, { green: 100, blue: 0 }, 'a weightless pair is treated as 100');
});

t.test('steps must increase to 100; the baseline defaults to the heaviest other environment', async (t) => {
  t.equal(stepsProblem([25, 50, 100]), undefined);
  t.equal(stepsProblem([100]), undefined, 'a blue-green cutover');
  t.match(stepsProblem([50, 25, 100]), /increase/);
  t.match(stepsProblem([25, 50]), /last step must be 100/);
  t.match(stepsProblem([]), /at least one/);
  t.equal(defaultBaseline(before, 'green'), 'blue');
  t.equal(defaultBaseline(before, 'blue'), 'green');
});

t.test('stickiness across the steps: green users stay on green, nobody moves to blue', async (t) => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
  const assign = (weights: Record<string, number>) =>
    keys.map((k) => pickSticky(Object.entries(weights).filter(([, w]) => w > 0).map(([name, weight]) => ({ name, weight, backup: false, available: true })), k)?.name);
  let previous = assign(before);
  for (let i = 0; i < plan.steps.length; i++) {
    const now = assign({ ...before, ...stepWeights(before, plan, i).weights });
    let leftGreen = 0;
    let toBlue = 0;
    let moved = 0;
    let canaryMoved = 0;
    now.forEach((env, k) => {
      if (env === previous[k]) return;
      moved++;
      if (previous[k] === 'green') leftGreen++;
      if (env === 'blue') toBlue++;
      if (previous[k] === 'canary') canaryMoved++;
    });
    t.equal(leftGreen, 0, `step ${i + 1}: no green user left green`);
    t.equal(toBlue, 0, `step ${i + 1}: nobody moved to blue`);
    // Weighted rendezvous hashing moves a few canary users too (about the canary's share of those who move).
    t.ok(canaryMoved <= moved * 0.1, `step ${i + 1}: ${moved} users moved, ${canaryMoved} of them from the canary`);
    previous = now;
  }
});

const stats = (requests: number, errors: number, p95: number | null): WindowStats => ({ requests, rps: requests / 30, error_rate: requests ? errors / requests : 0, p50_ms: p95, p95_ms: p95, p99_ms: p95, mean_confidence: null });

t.test('analysis: inconclusive without a sample, fails on errors or a slower P95, passes otherwise', async (t) => {
  t.equal(analyze(stats(10, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS).verdict, 'inconclusive');
  const errors = analyze(stats(200, 4, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS);
  t.equal(errors.verdict, 'fail');
  t.same(errors.checks[0], { metric: 'error_rate', value: 0.02, threshold: 0.01, window_seconds: 30, sample: 200, passed: false }, 'metric, value, threshold, window, sample');
  t.match(errors.summary, 'error_rate 0.02 over 0.01 (200 requests in 30 s)');
  t.equal(analyze(stats(200, 0, 80), stats(500, 0, 20), ANALYSIS_DEFAULTS).verdict, 'fail', 'P95 four times the baseline\'s');
  t.equal(analyze(stats(200, 0, 33), stats(500, 0, 26), ANALYSIS_DEFAULTS).verdict, 'pass', 'a busy machine\'s tail noise is not a regression');
  t.equal(analyze(stats(200, 0, 1.5), stats(500, 0, 1), ANALYSIS_DEFAULTS).verdict, 'pass', 'sub-millisecond noise is not a regression');
  t.equal(analyze(stats(200, 1, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS).verdict, 'pass', '0.5% errors is within 1%');
  t.equal(analyze(stats(200, 0, 2), undefined, ANALYSIS_DEFAULTS).checks.length, 1, 'no baseline: no latency check');
});

t.test('analysis: with feedback on both sides, accuracy the sequential test finds lower fails; mean confidence never decides', async (t) => {
  const worse = analyze(stats(200, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS, { target: { correct: 110, n: 200 }, baseline: { correct: 360, n: 500 }, seconds: 90 });
  t.equal(worse.verdict, 'fail', '55% against 72%');
  t.same(worse.checks.find((c) => c.metric === 'online_accuracy'), { metric: 'online_accuracy', value: 0.55, threshold: 0.72, window_seconds: 90, sample: 200, passed: false });
  const undecided = analyze(stats(200, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS, { target: { correct: 130, n: 200 }, baseline: { correct: 360, n: 500 }, seconds: 90 });
  t.equal(undecided.verdict, 'pass', '65% against 72% on 200 labels: not yet found lower, so it does not fail (read at every step, it must not)');
  t.equal(analyze(stats(200, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS, { target: { correct: 10, n: 20 }, baseline: { correct: 360, n: 500 }, seconds: 90 }).checks.some((c) => c.metric === 'online_accuracy'), false, 'too few labels: not compared');
  const confident = analyze({ ...stats(200, 0, 2), mean_confidence: 0.2 }, { ...stats(500, 0, 2), mean_confidence: 0.9 }, ANALYSIS_DEFAULTS);
  t.equal(confident.verdict, 'pass', 'a lower mean confidence alone does not fail');
  t.ok(confident.checks.some((c) => c.metric.startsWith('mean_confidence')), 'but it is shown');
});

t.test('analysis: asked to, drift flagged on the target fails the step, with the test that caught it', async (t) => {
  const drifted = analyze(stats(200, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS, undefined, { drifted: true, requests: 1000, test: { name: 'length', against: 'reference', p_value: 1e-9, threshold: 0.00025 } });
  t.equal(drifted.verdict, 'fail');
  t.same(drifted.checks.find((c) => c.metric.startsWith('drift')), { metric: 'drift (length against reference, p-value)', value: 1e-9, threshold: 0.00025, window_seconds: 30, sample: 1000, passed: false });
  const calm = analyze(stats(200, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS, undefined, { drifted: false, requests: 1000, test: { name: 'confidence', against: 'reference', p_value: 0.2, threshold: 0.00025 } });
  t.equal(calm.verdict, 'pass', 'not drifted: passes, the closest test shown');
  t.equal(analyze(stats(200, 0, 2), stats(500, 0, 2), ANALYSIS_DEFAULTS, undefined, null).checks.some((c) => c.metric.startsWith('drift')), false, 'not asked, or not tested yet: no drift check');
});
