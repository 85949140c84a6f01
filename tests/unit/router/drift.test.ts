// Drift monitoring's arithmetic: the tests' p-values against textbook values, a window that keeps
// only its last predictions, and a monitor that flags a shifted stream and not an unshifted one.
import t from 'tap';
import { ProfileBuilder } from '../../../shared/drift/profile.ts';
import { Random } from '../../../shared/random.ts';
import { DriftMonitor } from '../../../router/src/drift/monitor.ts';
import { chiSquaredSurvival, chiSquaredTwoSample, ksTwoSampleBinned, rareRateTwoSample } from '../../../router/src/stats/distribution-tests.ts';

const near = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance;

t.test('chi-squared, KS and the rare-rate test against known values', async (t) => {
  for (const [x, df] of [[3.841, 1], [5.991, 2], [18.307, 10], [124.342, 100]]) t.ok(near(chiSquaredSurvival(x, df), 0.05, 0.0005), `P(χ²_${df} ≥ ${x}) = ${chiSquaredSurvival(x, df).toFixed(5)}`);
  t.ok(near(chiSquaredSurvival(10.828, 1), 0.001, 0.00005), 'the 0.1% point');
  const same = chiSquaredTwoSample([50, 30, 20], [100, 60, 40]);
  t.same(same, { statistic: 0, p_value: 1 }, 'the same mix: nothing');
  const table = chiSquaredTwoSample([60, 40], [40, 60]);
  t.equal(table.statistic, 8, "Pearson's statistic for 60/40 against 40/60");
  t.ok(near(table.p_value, 0.004678, 0.00001), `p = ${table.p_value}`);
  t.same(ksTwoSampleBinned([10, 20, 30], [20, 40, 60]), { statistic: 0, p_value: 1 });
  const ks = ksTwoSampleBinned([100, 0, 0, 0], [0, 0, 0, 100]);
  t.equal(ks.statistic, 1);
  t.ok(ks.p_value < 1e-10, 'disjoint samples: p ≈ 0');
  // D = 0.1 with 500 a side: λ ≈ (15.81 + 0.12 + 0.007) × 0.1 = 1.594 → Q ≈ 0.0123.
  const mid = ksTwoSampleBinned([300, 200], [250, 250]);
  t.ok(mid.statistic === 0.1 && near(mid.p_value, 0.0123, 0.001), `D ${mid.statistic}, p ${mid.p_value}`);
  t.ok(rareRateTwoSample(5, 10_000, 5, 10_000).p_value > 0.99, 'the same rate');
  t.ok(near(rareRateTwoSample(0, 10_000, 10, 10_000).p_value, 2 * 0.5 ** 10, 1e-9), 'all ten events on one side: exactly 2 × 0.5^10');
  t.ok(rareRateTwoSample(400, 10_000, 10, 10_000).p_value < 1e-50, 'forty times the rate');
});

/** A stream like SST dev predictions: two labels, confidence around 0.8, 10 to 40 pieces, rare unknowns. */
function stream(random: Random, shift = { lengthScale: 1, unknownRate: 0.0001, positive: 0.5 }) {
  return () => {
    const label = random.next() < shift.positive ? 'positive' : 'negative';
    const confidence = Math.min(0.999, 0.55 + random.next() * 0.45);
    const pieces = Math.max(3, Math.round((10 + random.next() * 30) * shift.lengthScale));
    let unknown = 0;
    for (let i = 0; i < pieces; i++) if (random.next() < shift.unknownRate) unknown++;
    return { label, confidence, pieces, unknown };
  };
}

t.test('a window keeps its last predictions; an unshifted stream passes, shifted ones are flagged with the test that caught them', async (t) => {
  const reference = new ProfileBuilder('simulated dev');
  const draw = stream(new Random(1));
  for (let i = 0; i < 1100; i++) {
    const p = draw();
    reference.add(p.label, p.confidence, p.pieces, p.unknown);
  }
  const profile = reference.build();
  const monitor = new DriftMonitor({ windowRequests: 500, minRequests: 300, alpha: 0.001 });
  const feed = (environment: string, next: ReturnType<typeof stream>, n: number) => {
    for (let i = 0; i < n; i++) {
      const p = next();
      monitor.record(environment, '1.0.0', p.label, p.confidence, p.pieces, p.unknown);
    }
  };
  feed('blue', stream(new Random(2)), 200);
  let view = monitor.evaluate(() => profile, 'blue');
  t.same([view.environments[0].requests, view.environments[0].tests.length, view.environments[0].drifted], [200, 0, false], 'under min_requests: not tested');
  t.match(view.environments[0].note, /200 predictions in the window, fewer than the 300 needed/);
  feed('blue', stream(new Random(3)), 5000);
  view = monitor.evaluate(() => profile, 'blue');
  const blue = view.environments[0];
  t.equal(blue.requests, 500, 'the window holds its last 500');
  t.equal(blue.tests.length, 4, 'against the reference: label mix, confidence, length, unknown pieces (the control arm is itself)');
  t.equal(blue.drifted, false, `the same stream: no drift (${blue.tests.map((x) => `${x.name} p=${x.p_value}`).join(', ')})`);
  t.ok(blue.tests.every((x) => x.threshold === 0.00025), 'α shared by the four tests');

  feed('green', stream(new Random(4), { lengthScale: 0.3, unknownRate: 0.0001, positive: 0.5 }), 500);
  feed('canary', stream(new Random(5), { lengthScale: 1, unknownRate: 0.05, positive: 0.5 }), 500);
  feed('purple', stream(new Random(6), { lengthScale: 1, unknownRate: 0.0001, positive: 0.9 }), 500);
  view = monitor.evaluate(() => profile, 'blue');
  const of = (name: string) => view.environments.find((e) => e.environment === name)!;
  const failed = (name: string) => of(name).tests.filter((x) => !x.passed).map((x) => `${x.name}/${x.against}`);
  t.same(failed('green'), ['length/reference', 'length/control'], 'truncated texts: length, against the bundle and against the control arm');
  t.same(failed('canary'), ['unknown_pieces/reference', 'unknown_pieces/control'], 'text the vocabulary does not know: unknown pieces');
  t.same(failed('purple'), ['label_mix/reference'], 'a different label mix: against the bundle only (outputs are not compared across arms)');
  t.ok(of('green').tests.every((x) => x.threshold === Number((0.001 / 6).toPrecision(4))), 'six tests beside the control arm');
  t.equal(monitor.evaluate(() => null, null).environments[0].note, 'no drift reference in the bundle metadata (npm run evaluate records one): tested against the control arm only');
});
