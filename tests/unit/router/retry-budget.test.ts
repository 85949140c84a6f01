import t from 'tap';
import { RetryBudget } from '../../../router/src/proxy/retry-budget.ts';

t.test('retries stay within ratio × recent requests plus the floor', async (t) => {
  const budget = new RetryBudget(0.2, 1, 10);
  const now = 1_000_000_000_000;
  for (let i = 0; i < 100; i++) budget.recordRequest(now);
  let allowed = 0;
  while (budget.tryRetry(now)) allowed++;
  t.equal(allowed, 30, '20% of 100 requests plus a floor of 1 per second over 10 s');
});

t.test('the window slides: old requests and retries stop counting', async (t) => {
  const budget = new RetryBudget(0.2, 0, 10);
  const start = 1_000_000_000_000;
  for (let i = 0; i < 50; i++) budget.recordRequest(start);
  let allowed = 0;
  while (budget.tryRetry(start)) allowed++;
  t.equal(allowed, 10);
  const later = start + 11_000;
  t.notOk(budget.tryRetry(later), 'nothing recent: no budget');
  for (let i = 0; i < 10; i++) budget.recordRequest(later);
  t.ok(budget.tryRetry(later) && budget.tryRetry(later), 'ten new requests bring two retries');
  t.notOk(budget.tryRetry(later), 'and then the budget is spent');
});
