// Retries may add at most `ratio` of recent requests (plus a small floor per second), as Envoy's
// and Linkerd's retry budgets, so that retries cannot amplify an overload.

interface Second {
  second: number;
  requests: number;
  retries: number;
}

export class RetryBudget {
  private readonly seconds: Second[];

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly windowSeconds = 10,
  ) {
    this.seconds = Array.from({ length: windowSeconds }, () => ({ second: -1, requests: 0, retries: 0 }));
  }

  recordRequest(now = Date.now()): void {
    this.slot(now).requests++;
  }

  /** Spends one retry when the budget allows it. */
  tryRetry(now = Date.now()): boolean {
    const slot = this.slot(now);
    const oldest = Math.floor(now / 1000) - this.windowSeconds;
    let requests = 0;
    let retries = 0;
    for (const s of this.seconds) {
      if (s.second > oldest) {
        requests += s.requests;
        retries += s.retries;
      }
    }
    if (retries >= this.ratio * requests + this.minPerSecond * this.windowSeconds) return false;
    slot.retries++;
    return true;
  }

  /** The bucket of this second, cleared if it last held an older second. */
  private slot(now: number): Second {
    const second = Math.floor(now / 1000);
    const s = this.seconds[second % this.windowSeconds];
    if (s.second !== second) {
      s.second = second;
      s.requests = 0;
      s.retries = 0;
    }
    return s;
  }
}
