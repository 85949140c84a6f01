// The one load generator: bounded by count, by time and by stop(); paced when given a rate.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedLoop } from '../../shared/load/closed-loop.ts';

t.test('sends exactly `total` requests, each index once, at most `concurrency` at a time', async (t) => {
  const seen: number[] = [];
  let inFlight = 0;
  let most = 0;
  const loop = closedLoop(async (i) => {
    most = Math.max(most, ++inFlight);
    seen.push(i);
    await sleep(1);
    inFlight--;
  }, { concurrency: 4, total: 50, maxMs: 60_000 });
  await loop.done;
  t.equal(loop.sent, 50);
  t.same([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  t.ok(most <= 4 && most > 1, `at most 4 in flight (${most})`);
});

t.test('a rate spreads the requests: the i-th never leaves before i / rate seconds', async (t) => {
  const start = Date.now();
  const early: number[] = [];
  await closedLoop(async (i) => {
    if (Date.now() - start < (i * 1000) / 100 - 1) early.push(i);
  }, { concurrency: 4, total: 20, rate: 100, maxMs: 60_000 }).done;
  t.same(early, [], 'none ahead of its turn');
});

t.test('stop() sends nothing more and waits for the requests in flight', async (t) => {
  let answered = 0;
  const loop = closedLoop(async () => {
    await sleep(5);
    answered++;
  }, { concurrency: 3, maxMs: 60_000 });
  while (answered < 10) await sleep(5);
  await loop.stop();
  t.equal(answered, loop.sent, 'every request sent was answered before stop() resolved');
  const after = loop.sent;
  await sleep(30);
  t.equal(loop.sent, after, 'nothing sent after stop()');
});

t.test('maxMs bounds a loop nobody stops', async (t) => {
  const loop = closedLoop(() => sleep(2), { concurrency: 2, maxMs: 50 });
  await loop.done;
  t.ok(loop.sent > 0, `${loop.sent} sent, then it stopped by itself`);
});
