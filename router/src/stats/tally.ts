// Counts of answered requests: how many, how many failed, their latencies (a log-spaced histogram,
// 0.1 ms to about 50 s in steps of 25%) and the sum of their confidences. A sliding window is a
// ring of per-second tallies (window.ts); an experiment keeps one tally per version from its start.

export const BOUNDS_MS = Array.from({ length: 60 }, (_, i) => 0.1 * 1.25 ** i);

export interface TallySummary {
  requests: number;
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

export class Tally {
  count = 0;
  errors = 0;
  readonly latency = new Uint32Array(BOUNDS_MS.length);
  confidenceSum = 0;
  confidenceCount = 0;

  add(latencyMs: number, error: boolean, confidence: number | null): void {
    this.count++;
    if (error) this.errors++;
    this.latency[bucketIndex(latencyMs)]++;
    if (confidence !== null) {
      this.confidenceSum += confidence;
      this.confidenceCount++;
    }
  }

  merge(other: Tally): this {
    this.count += other.count;
    this.errors += other.errors;
    for (let i = 0; i < this.latency.length; i++) this.latency[i] += other.latency[i];
    this.confidenceSum += other.confidenceSum;
    this.confidenceCount += other.confidenceCount;
    return this;
  }

  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.latency.fill(0);
    this.confidenceSum = 0;
    this.confidenceCount = 0;
  }

  /** The upper bound of the bucket holding the q-quantile, in ms. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    let seen = 0;
    for (let i = 0; i < this.latency.length; i++) {
      seen += this.latency[i];
      if (seen >= q * this.count) return Math.round(BOUNDS_MS[i] * 100) / 100;
    }
    return null;
  }

  summary(): TallySummary {
    return {
      requests: this.count,
      error_rate: this.count ? this.errors / this.count : 0,
      p50_ms: this.quantile(0.5),
      p95_ms: this.quantile(0.95),
      p99_ms: this.quantile(0.99),
      mean_confidence: this.confidenceCount ? this.confidenceSum / this.confidenceCount : null,
    };
  }
}
