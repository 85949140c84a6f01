// Proportions from feedback, free of HTTP and shared by the A/B report and the rollout analysis:
// an accuracy with its 95% Wilson interval, and a two-proportion z-test of one against another.

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

const round = (x: number) => Math.round(x * 10_000) / 10_000;
