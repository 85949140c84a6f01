// The sequential comparison of two accuracies: valid when read at every step (simulated A/A
// experiments keep false "significant" under α), able to find a real 3-point difference, and
// honest about what an undecided comparison still needs. Seeded: the same numbers on every run.
import t from 'tap';
import { SEQUENTIAL_DEFAULTS, sequentialCompare } from '../../../router/src/stats/sequential.ts';
import { simulate, zTestLook } from '../../../testkit/sequential-sim.ts';

t.test('1,000 A/A experiments looked at every 10 labels: false "significant" at most α = 5%', async (t) => {
  for (const p of [0.5, 0.7, 0.9]) {
    const aa = simulate({ candidate: p, baseline: p, experiments: 1000, maxCandidate: 5000, every: 10, seed: 7 + p * 10 });
    t.ok(aa.decided <= SEQUENTIAL_DEFAULTS.alpha, `accuracy ${p} on both sides, up to 5,000 labels each, 500 looks: ${(aa.decided * 100).toFixed(1)}% called a difference`);
  }
});

t.test('a canary split (19 baseline labels for each of the candidate\'s) keeps the bound too; the fixed-sample z-test read the same way does not', async (t) => {
  const peeking = simulate({ candidate: 0.7, baseline: 0.7, experiments: 1000, maxCandidate: 5000, every: 10, seed: 11, look: zTestLook });
  const canary = simulate({ candidate: 0.7, baseline: 0.7, experiments: 1000, maxCandidate: 1000, ratio: 19, every: 5, seed: 12 });
  t.ok(canary.decided <= 0.05, `A/A at 95/5, up to 1,000 candidate labels: ${(canary.decided * 100).toFixed(1)}% called a difference`);
  t.ok(peeking.decided > 0.2, `A/A, z-test at every look: ${(peeking.decided * 100).toFixed(1)}% false "significant"`);
});

t.test('a real 3-point difference is found, and in the right direction', async (t) => {
  const up = simulate({ candidate: 0.73, baseline: 0.7, experiments: 1000, maxCandidate: 10_000, every: 50, seed: 21 });
  t.ok(up.decided >= 0.9, `73% against 70%, up to 10,000 labels each: found in ${(up.decided * 100).toFixed(1)}% (median ${up.medianAt} labels each)`);
  t.ok(up.wrongWay <= 5, `${up.wrongWay} of 1,000 called the wrong way`);
  const down = simulate({ candidate: 0.67, baseline: 0.7, experiments: 1000, maxCandidate: 10_000, every: 50, seed: 22 });
  t.ok(down.decided >= 0.9, `67% against 70%: found worse in ${(down.decided * 100).toFixed(1)}% (median ${down.medianAt} labels each)`);
  const short = simulate({ candidate: 0.73, baseline: 0.7, experiments: 1000, maxCandidate: 2000, every: 50, seed: 23 });
  t.ok(short.decided < up.decided, `with at most 2,000 labels each: ${(short.decided * 100).toFixed(1)}% (power grows with labels)`);
});

t.test('undecided: how many more labels and how long; decided: none', async (t) => {
  const early = sequentialCompare({ correct: 73, n: 100 }, { correct: 70, n: 100 }, 'blue', 2);
  t.equal(early?.decision, 'inconclusive');
  t.ok(early && early.more_feedback_needed !== null && early.more_feedback_needed > 1000, `73 of 100 against 70 of 100: ${early?.more_feedback_needed} more labels`);
  t.equal(early?.more_seconds_needed, Math.ceil((early?.more_feedback_needed ?? 0) / 2), 'at 2 labels/s');
  t.equal(early?.assumed_difference, 0.03);
  const tie = sequentialCompare({ correct: 700, n: 1000 }, { correct: 700, n: 1000 }, 'blue');
  t.equal(tie?.assumed_difference, 0.03, 'no difference seen: sized for the smallest worth finding');
  t.equal(tie?.more_seconds_needed, null, 'no rate: no time');
  // Following the estimate: that many more labels at the same accuracies decides.
  const more = early!.more_feedback_needed!;
  const after = sequentialCompare({ correct: Math.round(0.73 * (100 + more / 2)), n: 100 + more / 2 }, { correct: Math.round(0.7 * (100 + more / 2)), n: 100 + more / 2 }, 'blue');
  t.equal(after?.decision, 'better', 'the estimate is enough');
  const clear = sequentialCompare({ correct: 800, n: 1000 }, { correct: 700, n: 1000 }, 'blue');
  t.same([clear?.decision, clear?.more_feedback_needed], ['better', null]);
  t.ok(clear && clear.p_value < 0.05);
  const few = sequentialCompare({ correct: 20, n: 20 }, { correct: 0, n: 20 }, 'blue');
  t.equal(few?.decision, 'inconclusive', 'under 30 labels a side nothing is concluded, however far apart');
  t.equal(few?.more_feedback_needed, 20, 'at least the floor: 10 more on each side');
  t.equal(sequentialCompare({ correct: 1, n: 1 }, { correct: 0, n: 0 }, 'blue'), null, 'no baseline feedback: no comparison');
});
