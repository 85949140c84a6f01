// Retries may add at most `ratio` of recent requests (plus a small floor per second), as Envoy's
// and Linkerd's retry budgets, so that retries cannot amplify an overload.
export class RetryBudget {
  private readonly requests: number[];
  private readonly retries: number[];
  private slot = -1;
  private slotSecond = 0;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly windowSeconds = 10,
  ) {
    this.requests = new Array(windowSeconds).fill(0);
    this.retries = new Array(windowSeconds).fill(0);
  }

  recordRequest(now = Date.now()): void {
    this.requests[this.current(now)]++;
  }

  /** Spends one retry when the budget allows it. */
  tryRetry(now = Date.now()): boolean {
    const i = this.current(now);
    const requests = this.requests.reduce((a, b) => a + b, 0);
    const retries = this.retries.reduce((a, b) => a + b, 0);
    if (retries >= this.ratio * requests + this.minPerSecond * this.windowSeconds) return false;
    this.retries[i]++;
    return true;
  }

  private current(now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.slotSecond) {
      // Clear the slots of the seconds that passed since the last request.
      const steps = Math.min(this.windowSeconds, this.slot < 0 ? this.windowSeconds : second - this.slotSecond);
      for (let k = 1; k <= steps; k++) {
        const j = (Math.max(this.slot, 0) + k) % this.windowSeconds;
        this.requests[j] = 0;
        this.retries[j] = 0;
      }
      this.slot = (Math.max(this.slot, 0) + Math.max(1, steps)) % this.windowSeconds;
      this.slotSecond = second;
    }
    return this.slot;
  }
}
