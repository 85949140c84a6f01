// Two-sample tests on counts, free of HTTP, for drift monitoring: is this window of traffic drawn
// from the same distribution as a reference? Chi-squared on a 2×k table (categories: the label
// mix), Kolmogorov–Smirnov on binned distributions (confidence, length: D at the bin edges, so
// conservative with ties), and an exact conditional binomial test on two rates of rare events
// (unknown word pieces: given how many there are in all, how they fall between the two samples).

export interface TestResult {
  statistic: number;
  p_value: number;
}

/** Regularized lower incomplete gamma P(a, x) (series, or continued fraction for x > a + 1). */
function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.min(1, sum * Math.exp(lnPrefix));
  }
  // Lentz's continued fraction for Q(a, x).
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.max(0, 1 - Math.exp(lnPrefix) * h);
}

/** ln Γ(x), Lanczos. */
function logGamma(x: number): number {
  const g = [676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = 0.99999999999980993;
  const t = x + 7.5;
  for (let i = 0; i < 8; i++) a += g[i] / (x + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(χ²_df ≥ x). */
export function chiSquaredSurvival(x: number, df: number): number {
  return df <= 0 ? 1 : 1 - gammaP(df / 2, x / 2);
}

const total = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** Pearson's chi-squared on the 2×k table of two samples' category counts (categories seen in neither are left out). */
export function chiSquaredTwoSample(a: readonly number[], b: readonly number[]): TestResult {
  const [na, nb] = [total(a), total(b)];
  if (na === 0 || nb === 0) return { statistic: 0, p_value: 1 };
  let statistic = 0;
  let columns = 0;
  for (let i = 0; i < a.length; i++) {
    const column = a[i] + b[i];
    if (column === 0) continue;
    columns++;
    const ea = (column * na) / (na + nb);
    const eb = (column * nb) / (na + nb);
    statistic += (a[i] - ea) ** 2 / ea + (b[i] - eb) ** 2 / eb;
  }
  return { statistic: round(statistic), p_value: chiSquaredSurvival(statistic, columns - 1) };
}

/** P(K ≥ λ) for the Kolmogorov distribution. */
function kolmogorovSurvival(lambda: number): number {
  if (lambda < 0.3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** Two-sample Kolmogorov–Smirnov on counts over the same bins: D = the largest gap between the two CDFs at a bin edge. */
export function ksTwoSampleBinned(a: readonly number[], b: readonly number[]): TestResult {
  const [na, nb] = [total(a), total(b)];
  if (na === 0 || nb === 0) return { statistic: 0, p_value: 1 };
  let ca = 0;
  let cb = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    ca += a[i];
    cb += b[i];
    d = Math.max(d, Math.abs(ca / na - cb / nb));
  }
  const ne = Math.sqrt((na * nb) / (na + nb));
  return { statistic: round(d), p_value: kolmogorovSurvival((ne + 0.12 + 0.11 / ne) * d) };
}

/**
 * Are rare events (k of n trials) as frequent in one sample as in the other? Conditional on the
 * k = ka + kb events, ka ~ Binomial(k, na / (na + nb)) when they are: the two-sided exact p-value
 * (the probabilities no larger than the observed one's), the statistic the ratio of the two rates.
 */
export function rareRateTwoSample(ka: number, na: number, kb: number, nb: number): TestResult {
  const k = ka + kb;
  if (na === 0 || nb === 0 || k === 0) return { statistic: 1, p_value: 1 };
  const p = na / (na + nb);
  const ratio = (ka / na + 1e-12) / (kb / nb + 1e-12);
  const logPmf = (i: number) => logGamma(k + 1) - logGamma(i + 1) - logGamma(k - i + 1) + i * Math.log(p) + (k - i) * Math.log(1 - p);
  if (k > 5000) {
    // Normal approximation for many events.
    const z = (ka - k * p) / Math.sqrt(k * p * (1 - p));
    return { statistic: round(ratio), p_value: Math.min(1, 2 * normalSurvival(Math.abs(z))) };
  }
  const observed = logPmf(ka);
  let pValue = 0;
  for (let i = 0; i <= k; i++) {
    const l = logPmf(i);
    if (l <= observed + 1e-9) pValue += Math.exp(l);
  }
  return { statistic: round(ratio), p_value: Math.min(1, pValue) };
}

function normalSurvival(z: number): number {
  return 0.5 * (1 - gammaP(0.5, (z * z) / 2));
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
