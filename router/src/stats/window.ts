// Per-environment statistics over a sliding window of one-second buckets: request rate, error
// rate, latency percentiles (log-spaced histogram) and mean prediction confidence.

import { SecondBuckets } from './second-buckets.ts';

const BOUNDS_MS = Array.from({ length: 60 }, (_, i) => 0.1 * 1.25 ** i); // 0.1 ms … ~50 s

interface Bucket {
  second: number;
  count: number;
  errors: number;
  latency: Uint32Array;
  confidenceSum: number;
  confidenceCount: number;
}

export interface WindowStats {
  requests: number;
  rps: number;
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  mean_confidence: number | null;
}

function bucketIndex(ms: number): number {
  let lo = 0;
  let hi = BOUNDS_MS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= BOUNDS_MS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class SlidingWindow {
  private readonly buckets: SecondBuckets<Bucket>;

  constructor(private readonly seconds = 60) {
    this.buckets = new SecondBuckets<Bucket>(
      seconds,
      () => ({ count: 0, errors: 0, latency: new Uint32Array(BOUNDS_MS.length), confidenceSum: 0, confidenceCount: 0 }),
      (b) => {
        b.count = 0;
        b.errors = 0;
        b.latency.fill(0);
        b.confidenceSum = 0;
        b.confidenceCount = 0;
      },
    );
  }

  record(latencyMs: number, error: boolean, confidence: number | null, now = Date.now()): void {
    const b = this.buckets.at(now);
    b.count++;
    if (error) b.errors++;
    b.latency[bucketIndex(latencyMs)]++;
    if (confidence !== null) {
      b.confidenceSum += confidence;
      b.confidenceCount++;
    }
  }

  stats(windowSeconds = this.seconds, now = Date.now()): WindowStats {
    const span = Math.min(windowSeconds, this.seconds);
    const live = this.buckets.recent(span, now);
    const count = live.reduce((s, b) => s + b.count, 0);
    const errors = live.reduce((s, b) => s + b.errors, 0);
    const hist = new Uint32Array(BOUNDS_MS.length);
    for (const b of live) for (let i = 0; i < hist.length; i++) hist[i] += b.latency[i];
    const quantile = (q: number) => {
      if (count === 0) return null;
      let seen = 0;
      for (let i = 0; i < hist.length; i++) {
        seen += hist[i];
        if (seen >= q * count) return Math.round(BOUNDS_MS[i] * 100) / 100;
      }
      return null;
    };
    const confCount = live.reduce((s, b) => s + b.confidenceCount, 0);
    return {
      requests: count,
      rps: Math.round((count / span) * 100) / 100,
      error_rate: count ? errors / count : 0,
      p50_ms: quantile(0.5),
      p95_ms: quantile(0.95),
      p99_ms: quantile(0.99),
      mean_confidence: confCount ? live.reduce((s, b) => s + b.confidenceSum, 0) / confCount : null,
    };
  }
}
