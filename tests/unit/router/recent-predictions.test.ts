// The feedback memory: bounded in count and age, the oldest forgotten first, an id remembered again
// meaning its latest prediction, and forgetting that stays O(1) once the memory is full (measured
// as work done, not time: a million inserts into a full memory touch each slot once).
import t from 'tap';
import fc from 'fast-check';
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

t.test('feedback recorded on a prediction is found with it, and leaves with it', async (t) => {
  const memory = new RecentPredictions(2, 60_000);
  memory.remember('a', p(1));
  t.equal(memory.find('a', 2)?.truth, undefined);
  t.equal(memory.setTruth('a', 'negative', 2), true);
  t.same(memory.find('a', 2), { environment: 'blue', version: '1.0.0', label: 'positive', at: 1, truth: 'negative' });
  t.equal(memory.setTruth('nobody', 'negative', 2), false, 'an id not remembered takes no feedback');
  memory.remember('b', p(2));
  memory.remember('c', p(3));
  t.equal(memory.setTruth('a', 'positive', 4), false, 'nor one forgotten');
  memory.remember('a', p(5));
  t.equal(memory.find('a', 6)?.truth, undefined, 'an id remembered again starts without feedback');
});

t.test('the same answers as a plain map, over random ids, repeats, expiries and evictions', async (t) => {
  // A reference with the same rules, written the obvious way.
  class Reference {
    private entries: { id: string; p: RememberedPrediction }[] = [];
    constructor(private capacity: number, private ttl: number) {}
    remember(id: string, p: RememberedPrediction) {
      while (this.entries.length > 0 && (this.entries.length >= this.capacity || p.at - this.entries[0].p.at >= this.ttl)) this.entries.shift();
      this.entries.push({ id, p: { ...p } });
    }
    find(id: string, now: number) {
      const e = [...this.entries].reverse().find((x) => x.id === id);
      return e && now - e.p.at < this.ttl ? e.p : undefined;
    }
    get size() {
      return new Set(this.entries.map((e) => e.id)).size;
    }
  }
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.record({ id: fc.integer({ min: 0, max: 60 }), gap: fc.integer({ min: 0, max: 30 }), label: fc.constantFrom('negative', 'neutral', 'positive'), feedback: fc.boolean() }), { maxLength: 400 }),
      (capacity, steps) => {
        const memory = new RecentPredictions(capacity, 200);
        const reference = new Reference(capacity, 200);
        let now = 0;
        for (const s of steps) {
          now += s.gap;
          const id = `req-${s.id}`;
          memory.remember(id, p(now, s.label));
          reference.remember(id, p(now, s.label));
          if (s.feedback) {
            const r = reference.find(`req-${(s.id * 7) % 61}`, now);
            if (r) r.truth = 'neutral';
            t.equal(memory.setTruth(`req-${(s.id * 7) % 61}`, 'neutral', now), r !== undefined);
          }
          for (let k = 0; k <= 60; k += 13) {
            const got = memory.find(`req-${k}`, now);
            const want = reference.find(`req-${k}`, now);
            if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`req-${k} at ${now}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
          }
        }
        if (memory.size !== reference.size) throw new Error(`size ${memory.size} ≠ ${reference.size}`);
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random histories agree');
});
