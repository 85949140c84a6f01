import t from 'tap';
import { PairMap } from '../../../router/src/stats/pair-map.ts';

t.test('values by (environment, version), no pair confused with another', async (t) => {
  const m = new PairMap<number>();
  t.equal(m.get('blue', '1.0.0'), undefined);
  m.set('blue', '1.0.0', 1);
  m.set('blue', '1.1.0', 2);
  m.set('green', '1.0.0', 3);
  // A joined key would make these two one ("a\0b" + "c" and "a" + "b\0c").
  m.set('a\u0000b', 'c', 4);
  m.set('a', 'b\u0000c', 5);
  t.same([m.get('blue', '1.0.0'), m.get('blue', '1.1.0'), m.get('green', '1.0.0'), m.get('a\u0000b', 'c'), m.get('a', 'b\u0000c')], [1, 2, 3, 4, 5]);
  m.set('blue', '1.0.0', 6);
  t.same([...m.values()], [6, 2, 3, 4, 5], 'in insertion order');
  m.clear();
  t.same([...m.values()], []);
});
