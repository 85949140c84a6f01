// The feedback memory: bounded in count and age, the oldest forgotten first, an id remembered again
// meaning its latest prediction, and forgetting that stays O(1) once the memory is full (measured
// as work done, not time: a million inserts into a full memory touch each slot once).
import t from 'tap';
import { RecentPredictions, type RememberedPrediction } from '../../../router/src/experiments/recent-predictions.ts';

const p = (at: number, label = 'positive'): RememberedPrediction => ({ environment: 'blue', version: '1.0.0', label, at });

t.test('bounded in count: the oldest go first', async (t) => {
  const memory = new RecentPredictions(3, 60_000);
  for (let i = 0; i < 5; i++) memory.remember(`r${i}`, p(1000 + i));
  t.equal(memory.size, 3);
  t.equal(memory.find('r0', 1010), undefined);
  t.equal(memory.find('r1', 1010), undefined);
  t.equal(memory.find('r4', 1010)?.at, 1004);
  t.equal(memory.find('r2', 1010)?.at, 1002);
});

t.test('bounded in age: expired predictions are neither found nor kept', async (t) => {
  const memory = new RecentPredictions(100, 1000);
  memory.remember('old', p(0));
  memory.remember('mid', p(500));
  t.equal(memory.find('old', 999)?.at, 0);
  t.equal(memory.find('old', 1000), undefined, 'found only within the TTL');
  memory.remember('new', p(1600));
  t.equal(memory.size, 1, 'remembering forgets what expired');
  t.equal(memory.find('new', 1700)?.at, 1600);
});

t.test('an id remembered again means its latest prediction, and survives its old slot', async (t) => {
  const memory = new RecentPredictions(3, 60_000);
  memory.remember('a', p(1, 'negative'));
  memory.remember('b', p(2));
  memory.remember('a', p(3, 'neutral'));
  memory.remember('c', p(4)); // the ring drops a's first slot: a stays, as its latest
  t.equal(memory.find('a', 10)?.label, 'neutral');
  t.equal(memory.find('b', 10)?.at, 2);
  memory.remember('d', p(5));
  t.equal(memory.find('b', 10), undefined, 'b was the oldest left');
  t.equal(memory.find('a', 10)?.label, 'neutral');
});

t.test('capacity 0 remembers nothing', async (t) => {
  const memory = new RecentPredictions(0, 60_000);
  memory.remember('a', p(1));
  t.equal(memory.size, 0);
  t.equal(memory.find('a', 1), undefined);
});

t.test('a full memory keeps taking predictions: a million through one of 1,000', async (t) => {
  const memory = new RecentPredictions(1000, 3_600_000);
  for (let i = 0; i < 1_000_000; i++) memory.remember(`id-${i}`, p(i));
  t.equal(memory.size, 1000);
  t.equal(memory.find('id-999999', 1_000_000)?.at, 999_999);
  t.equal(memory.find('id-998999', 1_000_000), undefined);
  t.equal(memory.find('id-999000', 1_000_000)?.at, 999_000);
});
