// Simulated experiments for the sequential comparison (router/src/stats/sequential.ts): labels
// drawn with known accuracies, looked at every few labels, stopped at the first decision. Used by
// its test (the false-alarm bound and the power it must keep) and by `npm run bench:sequential`.
import { sequentialCompare, type Decision } from '../router/src/stats/sequential.ts';
import { Random } from '../shared/random.ts';

export type Look = (candidate: { correct: number; n: number }, baseline: { correct: number; n: number }) => Decision;

export interface SimulationSpec {
  /** True accuracies. */
  candidate: number;
  baseline: number;
  experiments: number;
  /** The candidate's labels at most (the baseline gets `ratio` times as many). */
  maxCandidate: number;
  /** Baseline labels per candidate label (a 95/5 canary: 19). */
  ratio?: number;
  /** A look every this many candidate labels. */
  every: number;
  seed: number;
  look?: Look;
}

export interface SimulationOutcome {
  /** Share of experiments that reached a decision. */
  decided: number;
  /** Median candidate labels when decided. */
  medianAt: number | null;
  /** Decisions in the wrong direction. */
  wrongWay: number;
}

export const sequentialLook: Look = (c, b) => sequentialCompare(c, b, 'baseline')?.decision ?? 'inconclusive';

/** What the report used before: a fixed-sample two-proportion z-test, p < 0.05, read at every look. */
export const zTestLook: Look = (c, b) => {
  if (c.n < 30 || b.n < 30) return 'inconclusive';
  const pooled = (c.correct + b.correct) / (c.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / c.n + 1 / b.n));
  const diff = c.correct / c.n - b.correct / b.n;
  return se > 0 && Math.abs(diff / se) > 1.959964 ? (diff > 0 ? 'better' : 'worse') : 'inconclusive';
};

export function simulate(spec: SimulationSpec): SimulationOutcome {
  const random = new Random(spec.seed);
  const ratio = spec.ratio ?? 1;
  const look = spec.look ?? sequentialLook;
  const at: number[] = [];
  let wrongWay = 0;
  for (let e = 0; e < spec.experiments; e++) {
    const c = { correct: 0, n: 0 };
    const b = { correct: 0, n: 0 };
    while (c.n < spec.maxCandidate) {
      c.n++;
      if (random.next() < spec.candidate) c.correct++;
      for (let i = 0; i < ratio; i++) {
        b.n++;
        if (random.next() < spec.baseline) b.correct++;
      }
      if (c.n % spec.every !== 0) continue;
      const decision = look(c, b);
      if (decision === 'inconclusive') continue;
      at.push(c.n);
      if ((decision === 'better') !== spec.candidate > spec.baseline) wrongWay++;
      break;
    }
  }
  at.sort((x, y) => x - y);
  return { decided: at.length / spec.experiments, medianAt: at.length ? at[Math.floor(at.length / 2)] : null, wrongWay };
}
