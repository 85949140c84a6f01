// Comparing two accuracies with a test that may be read at every step: a mixture sequential
// probability ratio test (mSPRT; Robbins 1970, Johari et al., "Peeking at A/B tests", KDD 2017).
// The difference of the two accuracies, estimated with its variance V, is weighed against "no
// difference" by a likelihood ratio averaged over differences drawn from N(0, τ²):
//
//   Λ_τ = √(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))
//
// Under no difference Λ is a martingale, so (Ville's inequality) the chance that it EVER reaches
// 1/α, however often it is looked at, is at most α. The always-valid p-value is 1/Λ (capped at 1).
// A fixed-sample z-test read at every step instead crosses p < 0.05 in most A/A experiments sooner
// or later. Λ here is the mean of Λ_τ for τ = 0.03, 0.1 and 0.3 (a mean of martingales is one):
// τ = 0.03 alone finds 3-point differences a little sooner but needs ~160 labels a side for a
// 30-point one; the mean finds that in ~60. V is the pooled (no-difference) variance, smoothed so a
// 0% or 100% sample does not divide by zero. Simulated (tests/unit/router/sequential.test.ts):
// A/A false "significant" under 5% looked at every 10 labels; a 3-point difference found in ~96%
// of experiments within 10,000 labels a side.

export type Decision = 'better' | 'worse' | 'inconclusive';

export interface SequentialOptions {
  /** The chance, over the whole experiment, of calling a difference that is not there. */
  alpha: number;
  /** The spreads of differences the test is tuned to (the mixtures' standard deviations, equally weighted). */
  taus: number[];
  /** Labels each side needs before anything is concluded (the normal approximation's floor). */
  minEach: number;
  /** The smallest difference worth finding: what "more labels needed" is sized for when the observed one is smaller. */
  minDifference: number;
}

export const SEQUENTIAL_DEFAULTS: SequentialOptions = { alpha: 0.05, taus: [0.03, 0.1, 0.3], minEach: 30, minDifference: 0.03 };

export interface Counts {
  correct: number;
  n: number;
}

export interface SequentialComparison {
  baseline: string;
  /** This side's accuracy minus the baseline's. */
  difference: number;
  /** Always valid: may be read at every step. */
  p_value: number;
  alpha: number;
  decision: Decision;
  /** Undecided: about how many more labels (both sides, at the current split) a decision needs if the difference holds; null when decided or out of reach. */
  more_feedback_needed: number | null;
  /** The same, as time at the current rate of labels. */
  more_seconds_needed: number | null;
  /** The difference the estimate assumes: the observed one, or the smallest worth finding when the observed is smaller. */
  assumed_difference: number | null;
}

/** The mixture likelihood ratio for a difference `diff` estimated with variance `v`. */
export function mixtureRatio(diff: number, v: number, taus: number[]): number {
  let sum = 0;
  for (const tau of taus) {
    const t2 = tau * tau;
    sum += Math.sqrt(v / (v + t2)) * Math.exp((t2 * diff * diff) / (2 * v * (v + t2)));
  }
  return sum / taus.length;
}

function pooledVariance(a: Counts, b: Counts): number {
  const p = (a.correct + b.correct + 1) / (a.n + b.n + 2);
  return p * (1 - p) * (1 / a.n + 1 / b.n);
}

/**
 * Is `a` more or less accurate than `b`, as far as the labels so far can say at any look?
 * `labelsPerSecond` (both sides together) turns the labels still needed into time.
 */
export function sequentialCompare(a: Counts, b: Counts, baseline: string, labelsPerSecond = 0, o: SequentialOptions = SEQUENTIAL_DEFAULTS): SequentialComparison | null {
  if (a.n === 0 || b.n === 0) return null;
  const diff = a.correct / a.n - b.correct / b.n;
  const enough = a.n >= o.minEach && b.n >= o.minEach;
  const v = pooledVariance(a, b);
  const ratio = enough ? mixtureRatio(diff, v, o.taus) : 1;
  const decided = ratio >= 1 / o.alpha;
  const decision: Decision = decided ? (diff > 0 ? 'better' : 'worse') : 'inconclusive';
  let more: number | null = null;
  let assumed: number | null = null;
  if (!decided) {
    assumed = Math.max(Math.abs(diff), o.minDifference);
    const k = scaleNeeded(assumed, v, o);
    const total = a.n + b.n;
    // Before the floor is reached, at least the floor on each side.
    const floor = Math.max(0, o.minEach - a.n) + Math.max(0, o.minEach - b.n);
    more = k === null ? null : Math.max(floor, Math.ceil((k - 1) * total));
  }
  return {
    baseline,
    difference: round(diff),
    p_value: round(Math.min(1, 1 / ratio)),
    alpha: o.alpha,
    decision,
    more_feedback_needed: more,
    more_seconds_needed: more !== null && labelsPerSecond > 0 ? Math.ceil(more / labelsPerSecond) : null,
    assumed_difference: assumed === null ? null : round(assumed),
  };
}

/** How many times today's labels (the variance divided by it) the difference needs to cross 1/α; null beyond 1,000×. */
function scaleNeeded(diff: number, v: number, o: SequentialOptions): number | null {
  const crosses = (k: number) => mixtureRatio(diff, v / k, o.taus) >= 1 / o.alpha;
  if (crosses(1)) return 1;
  let hi = 2;
  while (!crosses(hi)) {
    if (hi >= 1000) return null;
    hi *= 2;
  }
  let lo = hi / 2;
  for (let i = 0; i < 30 && hi - lo > 0.001; i++) {
    const mid = (lo + hi) / 2;
    if (crosses(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
