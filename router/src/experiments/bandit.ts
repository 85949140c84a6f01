// Thompson sampling over the accuracy learnt from feedback, free of time and HTTP: each arm (an
// environment) has a Beta(1 + right, 1 + wrong) posterior; the share of traffic it gets is the
// probability that it is the most accurate (randomized probability matching, Thompson 1933;
// Scott 2010), estimated from draws of every posterior, then held between a floor (every arm keeps
// learning) and a cap. Seeded draws give the same split for the same counts.
import { Random } from '../../../shared/random.ts';

export interface ArmCounts {
  environment: string;
  correct: number;
  n: number;
}

export interface ArmPosterior extends ArmCounts {
  posterior_mean: number;
  /** The central 95% of the posterior draws. */
  ci95: [number, number];
  /** Share of draws in which this arm was the most accurate. */
  p_best: number;
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through the boost Gamma(shape + 1)·U^(1/shape). */
function gamma(shape: number, next: () => number): number {
  if (shape < 1) return gamma(shape + 1, next) * Math.pow(next() || Number.MIN_VALUE, 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(next);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = next() || Number.MIN_VALUE;
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Standard normal by Box-Muller. */
function normal(next: () => number): number {
  const u = next() || Number.MIN_VALUE;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

export function betaSample(a: number, b: number, next: () => number): number {
  const x = gamma(a, next);
  return x / (x + gamma(b, next));
}

/** Every arm's posterior and its chance of being the best, from `draws` joint draws. */
export function posteriors(arms: readonly ArmCounts[], draws: number, seed: number | null): ArmPosterior[] {
  const next = seed === null ? Math.random : ((r) => () => r.next())(new Random(seed));
  const samples = arms.map(() => new Float64Array(draws));
  const wins = new Array<number>(arms.length).fill(0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    for (let i = 0; i < arms.length; i++) {
      const s = betaSample(1 + arms[i].correct, 1 + arms[i].n - arms[i].correct, next);
      samples[i][d] = s;
      if (s > samples[best][d]) best = i;
    }
    wins[best]++;
  }
  return arms.map((arm, i) => {
    const sorted = samples[i].sort();
    return {
      ...arm,
      posterior_mean: round((1 + arm.correct) / (2 + arm.n)),
      ci95: [round(sorted[Math.floor(0.025 * (draws - 1))]), round(sorted[Math.ceil(0.975 * (draws - 1))])],
      p_best: round(wins[i] / draws),
    };
  });
}

/**
 * Shares (summing to 1) proportional to `scores` where the bounds allow, each held within
 * [floor, cap]: share_i = clamp(λ · score_i, floor, cap) with λ found by bisection (the sum grows
 * with λ). Needs floor × arms ≤ 1 ≤ cap × arms.
 */
export function allocate(scores: readonly number[], floor: number, cap: number): number[] {
  // A hair above zero each, so arms scored 0 can still take what the capped ones cannot.
  const s = scores.map((x) => Math.max(0, x) + 1e-9);
  const at = (lambda: number) => s.map((x) => Math.min(cap, Math.max(floor, lambda * x)));
  const sum = (lambda: number) => at(lambda).reduce((a, b) => a + b, 0);
  let lo = 0;
  let hi = 1;
  while (sum(hi) < 1 && hi < 1e15) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > hi * 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (sum(mid) < 1) lo = mid;
    else hi = mid;
  }
  const shares = at(hi);
  const total = shares.reduce((a, b) => a + b, 0);
  return shares.map((x) => x / total);
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
