// Per-environment statistics over a sliding window of one-second buckets: request rate, error
// rate, latency percentiles (log-spaced histogram) and mean prediction confidence.

import { SecondBuckets } from './second-buckets.ts';
import { Tally, type TallySummary } from './tally.ts';

/** How far back a window reaches. */
export const WINDOW_SECONDS = 60;

export interface WindowStats extends TallySummary {
  rps: number;
}

export class SlidingWindow {
  private readonly buckets: SecondBuckets<Tally & { second: number }>;

  constructor(private readonly seconds = WINDOW_SECONDS) {
    this.buckets = new SecondBuckets<Tally & { second: number }>(
      seconds,
      () => Object.assign(new Tally(), { second: 0 }),
      (b) => b.reset(),
    );
  }

  record(latencyMs: number, error: boolean, confidence: number | null, now = Date.now()): void {
    this.buckets.at(now).add(latencyMs, error, confidence);
  }

  /** Adds the last `windowSeconds` of this window to `into` (windows of one environment add up). */
  addTo(into: Tally, windowSeconds = this.seconds, now = Date.now()): Tally {
    for (const b of this.buckets.recent(Math.min(windowSeconds, this.seconds), now)) into.merge(b);
    return into;
  }

  /** The tally of one second (epoch seconds), if this window still holds it. */
  second(second: number): Tally | undefined {
    return this.buckets.recent(1, second * 1000 + 999)[0];
  }

  stats(windowSeconds = this.seconds, now = Date.now()): WindowStats {
    return windowStats(this.addTo(new Tally(), windowSeconds, now), Math.min(windowSeconds, this.seconds));
  }
}

export function windowStats(tally: Tally, spanSeconds: number): WindowStats {
  const { requests, ...rest } = tally.summary();
  return { requests, rps: Math.round((requests / spanSeconds) * 100) / 100, ...rest };
}
