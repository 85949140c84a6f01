// Per-environment statistics over a sliding window of one-second buckets: request rate, error
// rate, latency percentiles (log-spaced histogram) and mean prediction confidence.

import { SecondBuckets } from './second-buckets.ts';
import { Tally, type TallySummary } from './tally.ts';

export interface WindowStats extends TallySummary {
  rps: number;
}

export class SlidingWindow {
  private readonly buckets: SecondBuckets<Tally & { second: number }>;

  constructor(private readonly seconds = 60) {
    this.buckets = new SecondBuckets<Tally & { second: number }>(
      seconds,
      () => Object.assign(new Tally(), { second: 0 }),
      (b) => b.reset(),
    );
  }

  record(latencyMs: number, error: boolean, confidence: number | null, now = Date.now()): void {
    this.buckets.at(now).add(latencyMs, error, confidence);
  }

  stats(windowSeconds = this.seconds, now = Date.now()): WindowStats {
    const span = Math.min(windowSeconds, this.seconds);
    const total = new Tally();
    for (const b of this.buckets.recent(span, now)) total.merge(b);
    const { requests, ...rest } = total.summary();
    return { requests, rps: Math.round((requests / span) * 100) / 100, ...rest };
  }
}
