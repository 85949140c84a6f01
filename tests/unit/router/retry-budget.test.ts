import t from 'tap';
import { RetryBudget } from '../../../router/src/proxy/retry-budget.ts';

/** Records `requests` at `now`, then spends retries until the budget refuses; returns how many it allowed. */
function retriesAllowed(budget: RetryBudget, requests: number, now: number): number {
  for (let i = 0; i < requests; i++) budget.recordRequest(now);
  let allowed = 0;
  while (budget.tryRetry(now)) allowed++;
  return allowed;
}

t.test('retries stay within ratio × recent requests plus the floor', async (t) => {
  const budget = new RetryBudget(0.2, 1, 10);
  t.equal(retriesAllowed(budget, 100, 1_000_000_000_000), 30, '20% of 100 requests plus a floor of 1 per second over 10 s');
});

t.test('the window slides: old requests and retries stop counting', async (t) => {
  const budget = new RetryBudget(0.2, 0, 10);
  const start = 1_000_000_000_000;
  t.equal(retriesAllowed(budget, 50, start), 10);
  const later = start + 11_000;
  t.notOk(budget.tryRetry(later), 'nothing recent: no budget');
  for (let i = 0; i < 10; i++) budget.recordRequest(later);
  t.ok(budget.tryRetry(later) && budget.tryRetry(later), 'ten new requests bring two retries');
  t.notOk(budget.tryRetry(later), 'and then the budget is spent');
});
