// The A/B report's statistics and recommendation, free of HTTP: online accuracy from feedback with
// its 95% Wilson interval, a two-proportion z-test against the baseline, and per environment a
// recommendation (promote, keep, roll back) with its reasons. Mean confidence is shown as the seed
// uses it, but only as a proxy: a model can be confidently wrong, so it never decides alone.

export interface Accuracy {
  feedback: number;
  correct: number;
  accuracy: number | null;
  /** 95% Wilson score interval. */
  ci95: [number, number] | null;
}

export interface Comparison {
  baseline: string;
  difference: number;
  z: number;
  p_value: number;
  significant: boolean;
}

const Z95 = 1.959964;

export function accuracy(correct: number, n: number): Accuracy {
  if (n === 0) return { feedback: 0, correct: 0, accuracy: null, ci95: null };
  const p = correct / n;
  const denom = 1 + (Z95 * Z95) / n;
  const centre = (p + (Z95 * Z95) / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + (Z95 * Z95) / (4 * n * n))) / denom;
  return { feedback: n, correct, accuracy: round(p), ci95: [round(Math.max(0, centre - half)), round(Math.min(1, centre + half))] };
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf; error below 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Two-proportion z-test (pooled), two-sided: is a's accuracy different from b's? */
export function compare(a: { correct: number; n: number }, b: { correct: number; n: number }, baseline: string, alpha = 0.05): Comparison | null {
  if (a.n === 0 || b.n === 0) return null;
  const pa = a.correct / a.n;
  const pb = b.correct / b.n;
  const pooled = (a.correct + b.correct) / (a.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  const z = se === 0 ? 0 : (pa - pb) / se;
  const p = 2 * (1 - normalCdf(Math.abs(z)));
  return { baseline, difference: round(pa - pb), z: round(z), p_value: round(p), significant: p < alpha };
}

export interface RecommendationInput {
  environment: string;
  isBaseline: boolean;
  requests: number;
  errorRate: number;
  p95: number | null;
  baselineP95: number | null;
  feedback: number;
  comparison: Comparison | null;
}

export interface Thresholds {
  maxErrorRate: number;
  maxP95Ratio: number;
  minP95IncreaseMs: number;
  /** Feedback needed before accuracy can decide. */
  minFeedback: number;
  /** Requests needed before a P95 can decide (a small sample's tail is its slowest few requests). */
  minRequestsForLatency: number;
}

export const REPORT_THRESHOLDS: Thresholds = { maxErrorRate: 0.01, maxP95Ratio: 1.2, minP95IncreaseMs: 25, minFeedback: 30, minRequestsForLatency: 200 };

export function recommend(i: RecommendationInput, t: Thresholds = REPORT_THRESHOLDS): { action: 'promote' | 'keep' | 'roll_back'; reasons: string[] } {
  if (i.isBaseline) return { action: 'keep', reasons: ['the baseline the others are compared with'] };
  const against: string[] = [];
  if (i.errorRate > t.maxErrorRate) against.push(`error rate ${pct(i.errorRate)} over ${pct(t.maxErrorRate)}`);
  if (i.requests >= t.minRequestsForLatency && i.p95 !== null && i.baselineP95 !== null && i.p95 > Math.max(i.baselineP95 * t.maxP95Ratio, i.baselineP95 + t.minP95IncreaseMs)) {
    against.push(`P95 ${i.p95} ms over ${t.maxP95Ratio}× the baseline's ${i.baselineP95} ms`);
  }
  const c = i.comparison;
  if (c?.significant && c.difference < 0) against.push(`accuracy ${pct(-c.difference)} below ${c.baseline}'s (p = ${c.p_value})`);
  if (against.length) return { action: 'roll_back', reasons: against };
  if (i.feedback < t.minFeedback) return { action: 'keep', reasons: [`${i.feedback} feedback labels, fewer than the ${t.minFeedback} needed to judge accuracy; error rate and latency are within bounds`] };
  if (c?.significant && c.difference > 0) return { action: 'promote', reasons: [`accuracy ${pct(c.difference)} above ${c.baseline}'s (p = ${c.p_value})`, 'error rate and latency within bounds'] };
  return { action: 'keep', reasons: [c ? `accuracy not significantly different from ${c.baseline}'s (p = ${c.p_value})` : 'no baseline feedback to compare with', 'error rate and latency within bounds'] };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
