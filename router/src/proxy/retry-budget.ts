// Retries may add at most `ratio` of recent requests (plus a small floor per second), as Envoy's
// and Linkerd's retry budgets, so that retries cannot amplify an overload.
import { SecondBuckets } from '../stats/second-buckets.ts';

interface Second {
  second: number;
  requests: number;
  retries: number;
}

export class RetryBudget {
  private readonly seconds: SecondBuckets<Second>;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly windowSeconds = 10,
  ) {
    this.seconds = new SecondBuckets<Second>(
      windowSeconds,
      () => ({ requests: 0, retries: 0 }),
      (s) => {
        s.requests = 0;
        s.retries = 0;
      },
    );
  }

  recordRequest(now = Date.now()): void {
    this.seconds.at(now).requests++;
  }

  /** Spends one retry when the budget allows it. */
  tryRetry(now = Date.now()): boolean {
    const slot = this.seconds.at(now);
    let requests = 0;
    let retries = 0;
    for (const s of this.seconds.recent(this.windowSeconds, now)) {
      requests += s.requests;
      retries += s.retries;
    }
    if (retries >= this.ratio * requests + this.minPerSecond * this.windowSeconds) return false;
    slot.retries++;
    return true;
  }
}
