import t from 'tap';
import { classificationReport } from '../../models/tools/trainer/metrics.ts';

t.test('accuracy, recall and macro-F1', async (t) => {
  const r = classificationReport(['a', 'b'], ['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'b']);
  t.equal(r.accuracy, 0.75);
  t.same(r.recall, { a: 0.5, b: 1 });
  t.same(r.precision, { a: 1, b: 2 / 3 });
  t.ok(Math.abs(r.macro_f1 - (2 / 3 + 0.8) / 2) < 1e-12);
  t.throws(() => classificationReport(['a'], [], []));
});
