// When to hedge: a prediction still unanswered after a few times its environment's usual P99 is
// sent to a second replica of that environment as well, and the first answer wins (Envoy's
// hedging on per-try timeout; call.ts crosses environments only after maxMs). Predictions are idempotent, so the cost is only the duplicate work, which the retry
// budget bounds. A hung replica then costs its clients one hedge delay, not its whole hang.

export interface HedgeOptions {
  /** Hedge after this many times the environment's recent P99; 0 turns hedging off. */
  factor: number;
  minMs: number;
  maxMs: number;
}

const SAMPLES = 256;
/** The P99 is recomputed after this many new samples, not on every request. */
const RECOMPUTE_EVERY = 64;

class LatencyRing {
  private readonly values = new Float64Array(SAMPLES);
  private count = 0;
  private sinceRecompute = 0;
  p99 = Number.NaN;

  record(ms: number): void {
    this.values[this.count % SAMPLES] = ms;
    this.count++;
    if (++this.sinceRecompute >= RECOMPUTE_EVERY) {
      this.sinceRecompute = 0;
      const sorted = this.values.slice(0, Math.min(this.count, SAMPLES)).sort();
      this.p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
    }
  }
}

export class HedgePolicy {
  private readonly rings = new Map<string, LatencyRing>();

  constructor(private readonly options: HedgeOptions) {}

  get enabled(): boolean {
    return this.options.factor > 0;
  }

  /** The longest hedge delay: after it, a replica looks hung rather than slow. */
  get maxMs(): number {
    return this.options.maxMs;
  }

  /** An answered call's latency, per environment. */
  record(environment: string, ms: number): void {
    let ring = this.rings.get(environment);
    if (!ring) this.rings.set(environment, (ring = new LatencyRing()));
    ring.record(ms);
  }

  /** How long to wait for a first answer before hedging; the maximum until the P99 is known. */
  delayMs(environment: string): number {
    const p99 = this.rings.get(environment)?.p99 ?? Number.NaN;
    if (Number.isNaN(p99)) return this.options.maxMs;
    return Math.min(this.options.maxMs, Math.max(this.options.minMs, p99 * this.options.factor));
  }
}
