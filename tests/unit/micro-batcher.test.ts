import t from 'tap';
import { lengthGroups } from '../../shared/batching/length-groups.ts';
import { MicroBatcher, QueueFull } from '../../shared/batching/micro-batcher.ts';

const double = async (xs: number[]) => xs.map((x) => x * 2);

t.test('items arriving together share one call, results in order', async (t) => {
  const sizes: number[] = [];
  // Full at five, and a wait far longer than any pause of a loaded machine between the submits: the
  // batch leaves because it is full, never because a few milliseconds passed (a GC pause once did).
  const b = new MicroBatcher(double, { maxBatchSize: 5, maxWaitMs: 60_000, maxQueue: 100, concurrency: 1 }, (n) => sizes.push(n));
  const results = await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit([x])));
  t.same(results, [[2], [4], [6], [8], [10]]);
  t.same(sizes, [5]);
});

t.test('batches never exceed maxBatchSize', async (t) => {
  const sizes: number[] = [];
  const b = new MicroBatcher(double, { maxBatchSize: 4, maxWaitMs: 5, maxQueue: 100, concurrency: 1 }, (n) => sizes.push(n));
  const out = await b.submit(Array.from({ length: 10 }, (_, i) => i));
  t.same(out, Array.from({ length: 10 }, (_, i) => i * 2));
  t.same(sizes, [4, 4, 2]);
});

t.test('maxBatchSize 1 turns batching off', async (t) => {
  const sizes: number[] = [];
  const b = new MicroBatcher(double, { maxBatchSize: 1, maxWaitMs: 5, maxQueue: 100, concurrency: 1 }, (n) => sizes.push(n));
  await Promise.all([1, 2, 3].map((x) => b.submit([x])));
  t.same(sizes, [1, 1, 1]);
});

t.test('items queued behind a busy model go out together as soon as it frees', async (t) => {
  const sizes: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = async (xs: number[]) => {
    if (sizes.length === 1) await gate;
    return xs;
  };
  const b = new MicroBatcher(slow, { maxBatchSize: 32, maxWaitMs: 0, maxQueue: 100, concurrency: 1 }, (n) => sizes.push(n));
  const first = b.submit([0]);
  const rest = [1, 2, 3].map((x) => b.submit([x]));
  t.equal(b.queued, 3, 'three wait while the first batch runs');
  release();
  await Promise.all([first, ...rest]);
  t.same(sizes, [1, 3]);
});

t.test('a full queue rejects at once; a failing batch rejects its items only', async (t) => {
  const b = new MicroBatcher(double, { maxBatchSize: 4, maxWaitMs: 50, maxQueue: 3, concurrency: 1 });
  const ok = b.submit([1, 2, 3]);
  await t.rejects(b.submit([4]), QueueFull);
  t.same(await ok, [2, 4, 6]);

  let calls = 0;
  const flaky = new MicroBatcher(async (xs: number[]) => {
    if (calls++ === 0) throw new Error('boom');
    return xs;
  }, { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 10, concurrency: 1 });
  await t.rejects(flaky.submit([1]), /boom/);
  t.same(await flaky.submit([2]), [2]);
});

t.test('idle() resolves once queued work is done', async (t) => {
  const b = new MicroBatcher(double, { maxBatchSize: 2, maxWaitMs: 10, maxQueue: 10, concurrency: 1 });
  const work = b.submit([1, 2, 3]);
  await b.idle();
  t.equal(b.queued, 0);
  t.equal(b.inFlight, 0);
  t.same(await work, [2, 4, 6]);
});

t.test('waitWhenIdle false: an item leaves at once when nothing runs, and waits only while a batch is in flight', async (t) => {
  const sizes: number[] = [];
  const gates: (() => void)[] = [];
  const gated = (xs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(xs)));
  // maxWaitMs is long, so only a returning batch (not the timer) can release the waiting ones.
  const b = new MicroBatcher(gated, { maxBatchSize: 8, maxWaitMs: 60_000, maxQueue: 100, concurrency: 4, waitWhenIdle: false }, (n) => sizes.push(n));
  const first = b.submit([1]);
  t.same(sizes, [1], 'the first item went out without waiting');
  const waiting = [2, 3, 4].map((x) => b.submit([x]));
  t.equal(b.queued, 3, 'later items wait although slots are free, because a batch is in flight');
  gates.shift()!();
  t.same(await first, [1]);
  await new Promise((r) => setImmediate(r));
  t.same(sizes, [1, 3], 'they left together when the first came back');
  gates.shift()!();
  t.same(await Promise.all(waiting), [[2], [3], [4]]);
});

t.test('waitWhenIdle false: a full batch does not wait for the one in flight', async (t) => {
  const sizes: number[] = [];
  const gates: (() => void)[] = [];
  const gated = (xs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(xs)));
  const b = new MicroBatcher(gated, { maxBatchSize: 2, maxWaitMs: 60_000, maxQueue: 100, concurrency: 2, waitWhenIdle: false }, (n) => sizes.push(n));
  const all = [b.submit([1]), b.submit([2]), b.submit([3])];
  t.same(sizes, [1, 2], 'the second batch filled up and took the free slot');
  gates.splice(0).forEach((g) => g());
  await new Promise((r) => setImmediate(r));
  gates.splice(0).forEach((g) => g());
  t.same(await Promise.all(all), [[1], [2], [3]]);
});

t.test('concurrency may be a function (e.g. healthy replicas), read at each dispatch', async (t) => {
  let slots = 1;
  const sizes: number[] = [];
  const gates: (() => void)[] = [];
  const gated = (xs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(xs)));
  const b = new MicroBatcher(gated, { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 100, concurrency: () => slots }, (n) => sizes.push(n));
  const all = [1, 2, 3].map((x) => b.submit([x]));
  t.equal(sizes.length, 1, 'one slot: one batch in flight');
  slots = 3;
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  t.equal(sizes.length, 3, 'three slots: the other two went out together');
  slots = 0;
  gates.splice(0).forEach((g) => g());
  t.same(await Promise.all(all), [[1], [2], [3]], 'zero slots still counts as one, so nothing is stranded');
});

t.test('overflowAfterMs: a batch out too long lets one more leave, and only one', async (t) => {
  const sizes: number[] = [];
  const gates: (() => void)[] = [];
  const gated = (xs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(xs)));
  const overflowed: boolean[] = [];
  const b = new MicroBatcher(gated, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 100, concurrency: 1, waitWhenIdle: false, overflowAfterMs: () => 30 }, (n, { overflow }) => {
    sizes.push(n);
    overflowed.push(overflow);
  });
  const first = b.submit([1]);
  const second = [2, 3].map((x) => b.submit([x]));
  t.same(sizes, [1], 'the only slot is taken: the others wait');
  await new Promise((r) => setTimeout(r, 60));
  t.same(sizes, [1, 2], 'once the first had been out 30 ms, the waiting ones left as one batch');
  const third = b.submit([4]);
  await new Promise((r) => setTimeout(r, 60));
  t.same(sizes, [1, 2], 'no second overflow while the first batch is still out');
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  t.same(sizes, [1, 2, 1], 'the first came back; the overflow batch, out 60 ms itself, let the last one go');
  t.same(overflowed, [false, true, true], 'each batch beyond the concurrency is reported as an overflow');
  gates.splice(0).forEach((g) => g());
  t.same(await Promise.all([first, ...second, third]), [[1], [2], [3], [4]]);
  t.equal(b.inFlight, 0);
});

t.test('minIntervalMs: a partial batch waits until that long after the previous one left; a full one does not', async (t) => {
  const departures: { size: number; spaced: boolean; at: number }[] = [];
  let spacing = 40;
  const b = new MicroBatcher(double, { maxBatchSize: 3, maxWaitMs: 0, maxQueue: 100, concurrency: 1, waitWhenIdle: false, minIntervalMs: () => spacing }, (size, { spaced }) => departures.push({ size, spaced, at: performance.now() }));
  t.same(await b.submit([1]), [2], 'the first batch left at once');
  const waiting = [2, 3].map((x) => b.submit([x]));
  await new Promise((r) => setImmediate(r));
  t.equal(departures.length, 1, 'the slot is free, but the next partial batch waits for the interval');
  t.same(await Promise.all(waiting), [[4], [6]]);
  t.same(departures.map((d) => [d.size, d.spaced]), [[1, false], [2, true]], 'the two waiting items left together, reported as spaced');
  t.ok(departures[1].at - departures[0].at >= 39, `left ${Math.round(departures[1].at - departures[0].at)} ms after the first`);
  t.same(await b.submit([4, 5, 6]), [8, 10, 12], 'a full batch leaves without waiting for the interval');
  t.same(departures[2].spaced, false);
  spacing = 0;
  t.same(await b.submit([7]), [14], 'an interval of 0 (read at each decision) holds nothing');
  t.same(departures.map((d) => d.size), [1, 2, 3, 1]);
});

t.test('overflowAfterMs of Infinity never overflows (and sets no timer)', async (t) => {
  const sizes: number[] = [];
  const gates: (() => void)[] = [];
  const gated = (xs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(xs)));
  const b = new MicroBatcher(gated, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 100, concurrency: 1, waitWhenIdle: false, overflowAfterMs: () => Infinity }, (n) => sizes.push(n));
  const all = [b.submit([1]), b.submit([2])];
  await new Promise((r) => setTimeout(r, 30));
  t.same(sizes, [1]);
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  gates.shift()!();
  t.same(await Promise.all(all), [[1], [2]]);
  t.same(sizes, [1, 1]);
});

t.test('length groups: similar lengths together when an extra call costs less than the padding it saves', async (t) => {
  t.same(lengthGroups([5, 40, 6, 41], 0), [[0, 1, 2, 3]], 'no call cost given: one batch');
  t.same(lengthGroups([7], 64), [[0]], 'one row: one batch');
  t.same(lengthGroups([5, 40, 6, 41], 16), [[0, 2], [1, 3]], 'short with short, long with long (2×6 + 2×41 + 32 < 4×41 + 16)');
  t.same(lengthGroups([5, 40, 6, 41], 200), [[0, 2, 1, 3]], 'a call dearer than the padding: one batch, sorted');
  const lengths = Array.from({ length: 32 }, (_, i) => 3 + ((i * 37) % 60));
  const groups = lengthGroups(lengths, 64);
  t.same(groups.flat().sort((a, b) => a - b), lengths.map((_, i) => i), 'every row in exactly one group');
  const padded = (g: number[][]) => g.reduce((sum, group) => sum + group.length * Math.max(...group.map((i) => lengths[i])) + 64, 0);
  t.ok(padded(groups) <= padded([lengths.map((_, i) => i)]), 'never dearer than one batch under the cost model');
});

t.test('submitOne: one item, its own result, in the same batches as submit', async (t) => {
  const sizes: number[] = [];
  const b = new MicroBatcher(double, { maxBatchSize: 4, maxWaitMs: 60_000, maxQueue: 5, concurrency: 1 }, (n) => sizes.push(n));
  const results = await Promise.all([b.submitOne(1), b.submit([2, 3]), b.submitOne(4)]);
  t.same(results, [2, [4, 6], 8]);
  t.same(sizes, [4]);
  // The only slot held by a batch that waits on a gate, so the queue fills behind it.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const gated = new MicroBatcher(async (xs: number[]) => (await gate, xs.map((x) => x * 2)), { maxBatchSize: 10, maxWaitMs: 0, maxQueue: 3, concurrency: 1 });
  const first = gated.submitOne(1);
  const held = [gated.submit([2, 3]), gated.submitOne(4)];
  await t.rejects(gated.submitOne(5), QueueFull, 'the queue bound holds');
  open();
  t.same(await Promise.all([first, ...held]), [2, [4, 6], 8]);
  const failing = new MicroBatcher(async () => Promise.reject(new Error('boom')), { maxBatchSize: 2, maxWaitMs: 0, maxQueue: 10, concurrency: 1 });
  await t.rejects(failing.submitOne(1), /boom/);
});

t.test('eager: while it says the load is light, an item leaves at once past a running batch; otherwise it waits', async (t) => {
  const departures: { size: number; eager: boolean; overflow: boolean }[] = [];
  const gates: (() => void)[] = [];
  const gated = (xs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(xs.map((x) => x * 2))));
  let light = true;
  // A wait far longer than the test: an item that is not eager stays queued until a slot frees.
  const b = new MicroBatcher(gated, { maxBatchSize: 8, maxWaitMs: 60_000, maxQueue: 100, concurrency: 1, waitWhenIdle: false, eager: () => light }, (size, { eager, overflow }) => departures.push({ size, eager, overflow }));
  const first = b.submitOne(1);
  const second = b.submitOne(2);
  t.same(departures, [{ size: 1, eager: false, overflow: false }, { size: 1, eager: true, overflow: false }], 'the second left at once, beside the first: eager, not an overflow');
  t.equal(b.inFlight, 2);
  light = false;
  const held = [b.submitOne(3), b.submitOne(4)];
  t.equal(departures.length, 2, 'no longer light: the next two wait for a slot');
  gates.splice(0).forEach((g) => g());
  t.same(await Promise.all([first, second]), [2, 4]);
  await new Promise((r) => setImmediate(r));
  t.same(departures[2], { size: 2, eager: false, overflow: false }, 'once both came back, the two left together');
  gates.splice(0).forEach((g) => g());
  t.same(await Promise.all(held), [6, 8]);
});
