// The bandit's arithmetic: Beta draws with the right moments, each arm's chance of being the best,
// and shares held between a floor and a cap; seeded, so the same counts give the same split.
import t from 'tap';
import { allocate, betaSample, posteriors } from '../../../router/src/experiments/bandit.ts';
import { Random } from '../../../shared/random.ts';

t.test('Beta draws have the Beta mean and variance, small shapes included', async (t) => {
  const random = new Random(3);
  const next = () => random.next();
  for (const [a, b] of [[1, 1], [31, 11], [0.5, 0.5], [200, 800]]) {
    const n = 20_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = betaSample(a, b, next);
      sum += x;
      sq += x * x;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    const [m, v] = [a / (a + b), (a * b) / ((a + b) ** 2 * (a + b + 1))];
    t.ok(Math.abs(mean - m) < 0.01 && Math.abs(variance - v) / v < 0.1, `Beta(${a}, ${b}): mean ${mean.toFixed(4)} (${m.toFixed(4)}), variance ${variance.toExponential(2)} (${v.toExponential(2)})`);
  }
});

t.test("each arm's posterior and chance of being the best", async (t) => {
  const arms = [
    { environment: 'blue', correct: 130, n: 200 },
    { environment: 'green', correct: 150, n: 200 },
    { environment: 'canary', correct: 12, n: 20 },
  ];
  const p = posteriors(arms, 10_000, 42);
  t.same(posteriors(arms, 10_000, 42), p, 'seeded: the same counts, the same answer');
  t.equal(p[1].posterior_mean, 0.7475, 'green: (1 + 150) / (2 + 200)');
  t.ok(p[1].ci95[0] < 0.7475 && p[1].ci95[1] > 0.7475 && p[1].ci95[1] - p[1].ci95[0] < 0.13, `green's interval ${p[1].ci95}`);
  t.ok(p[2].ci95[1] - p[2].ci95[0] > 0.3, `twenty labels: a wide interval (${p[2].ci95})`);
  t.ok(p[1].p_best > 0.8, `green is most likely the best: ${p[1].p_best}`);
  t.ok(p[0].p_best < 0.05, `blue, 10 points below on 200 labels, rarely: ${p[0].p_best}`);
  t.ok(p[2].p_best > p[0].p_best, `the canary, uncertain, keeps more chance than blue: ${p[2].p_best}`);
  t.equal(Math.round((p[0].p_best + p[1].p_best + p[2].p_best) * 1000) / 1000, 1);
  const none = posteriors([{ environment: 'a', correct: 0, n: 0 }, { environment: 'b', correct: 0, n: 0 }], 10_000, 1);
  t.ok(Math.abs(none[0].p_best - 0.5) < 0.02, 'no feedback: even chances');
});

t.test('shares between the floor and the cap', async (t) => {
  const close = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-9);
  t.ok(close(allocate([0.5, 0.3, 0.2], 0.05, 0.9), [0.5, 0.3, 0.2]), 'within bounds: as scored');
  t.ok(close(allocate([1, 0, 0], 0.05, 0.9), [0.9, 0.05, 0.05]), 'a sure winner: the cap, the losers the floor');
  t.ok(close(allocate([0.97, 0.02, 0.01], 0.05, 0.95), [0.9, 0.05, 0.05]), 'floors first; the winner gets the rest');
  t.ok(close(allocate([0.6, 0.4], 0.1, 0.55), [0.55, 0.45]), 'capped: the rest to the other');
  t.ok(close(allocate([0, 0, 0], 0.05, 0.9), [1 / 3, 1 / 3, 1 / 3]), 'no scores: even');
  const many = allocate([0.9, 0.04, 0.03, 0.02, 0.01], 0.1, 0.5);
  t.ok(Math.abs(many.reduce((s, x) => s + x, 0) - 1) < 1e-9 && many.every((x) => x >= 0.1 - 1e-9 && x <= 0.5 + 1e-9), `always summing to 1 within bounds: ${many.map((x) => x.toFixed(3))}`);
});
