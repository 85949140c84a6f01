// The report's statistics and recommendation: Wilson interval, the sequential comparison, and the
// rules that turn them (and errors and latency) into promote, keep or roll back.
import t from 'tap';
import { recommend } from '../../../router/src/experiments/report.ts';
import { accuracy } from '../../../router/src/stats/proportions.ts';
import { sequentialCompare as compare } from '../../../router/src/stats/sequential.ts';

t.test('Wilson 95% interval', async (t) => {
  t.same(accuracy(0, 0), { feedback: 0, correct: 0, accuracy: null, ci95: null });
  const a = accuracy(70, 100);
  t.equal(a.accuracy, 0.7);
  t.same(a.ci95, [0.6042, 0.7811], 'the textbook interval for 70 of 100');
  const [lo, hi] = accuracy(10, 10).ci95 ?? [0, 0];
  t.ok(hi <= 1 && lo > 0.6, `bounded by 1 and still informative at 10 of 10: [${lo}, ${hi}]`);
});

const base = { environment: 'green', isBaseline: false, requests: 1000, errorRate: 0, p95: 10, baselineP95: 10, feedback: 500, comparison: null };

t.test('recommendations, with reasons', async (t) => {
  t.equal(recommend({ ...base, isBaseline: true }).action, 'keep');
  t.same(recommend({ ...base, errorRate: 0.05 }), { action: 'roll_back', reasons: ['error rate 5% over 1%'] });
  t.match(recommend({ ...base, p95: 40 }).reasons[0], /P95 40 ms over 1\.2× the baseline's 10 ms/);
  t.equal(recommend({ ...base, requests: 100, p95: 40 }).action, 'keep', 'a small sample\'s P95 does not decide');
  const worse = compare({ correct: 600, n: 1000 }, { correct: 700, n: 1000 }, 'blue');
  t.equal(recommend({ ...base, comparison: worse }).action, 'roll_back');
  const better = compare({ correct: 780, n: 1000 }, { correct: 700, n: 1000 }, 'blue');
  t.equal(recommend({ ...base, comparison: better }).action, 'promote');
  t.match(recommend({ ...base, feedback: 10, comparison: better }).reasons[0], /10 feedback labels, fewer than the 30 needed/);
  const close = compare({ correct: 360, n: 500 }, { correct: 350, n: 500 }, 'blue', 2);
  t.equal(recommend({ ...base, comparison: close }).action, 'keep');
  t.match(recommend({ ...base, comparison: close }).reasons[0], /accuracy not yet told apart from blue's \(always-valid p = [\d.]+; about \d+ more labels \(~[\d]+ (min|h|s)\b.*at the current rate\) to tell a 3% difference\)/, 'undecided: how many more labels, and how long');
});
