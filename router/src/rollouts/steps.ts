// The weights of each step of a rollout, free of time and HTTP: traffic moves from the baseline
// environment to the target, the pair's total weight kept, every other environment untouched (a
// canary keeps its share while green is promoted). The last step (100) may keep the baseline as a
// backup, with weight 0, serving only if every weighted environment goes down.
import type { WeightsUpdate } from '../weights/schema.ts';

export interface StepPlan {
  target: string;
  baseline: string;
  /** Percent of the pair's traffic on the target at each step, increasing, ending at 100. */
  steps: number[];
  keepBackup: boolean;
}

export function stepWeights(before: Record<string, number>, plan: StepPlan, index: number): WeightsUpdate {
  const percent = plan.steps[index];
  const total = (before[plan.target] ?? 0) + (before[plan.baseline] ?? 0) || 100;
  const target = round((total * percent) / 100);
  const weights = { [plan.target]: target, [plan.baseline]: round(total - target) };
  const last = index === plan.steps.length - 1;
  return { weights, backup: { [plan.target]: false, ...(last && plan.keepBackup ? { [plan.baseline]: true } : {}) } };
}

/**
 * The steps still ahead: those above the target's current share of the pair (a rollout never moves
 * traffic back to the baseline; a target already at 26% starts at the first step above it).
 */
export function stepsAhead(before: Record<string, number>, target: string, baseline: string, steps: number[]): number[] {
  const pair = (before[target] ?? 0) + (before[baseline] ?? 0);
  const share = pair > 0 ? ((before[target] ?? 0) / pair) * 100 : 0;
  return steps.filter((s) => s > share || s === 100);
}

/** A problem with the steps, or undefined when they make a rollout. */
export function stepsProblem(steps: number[]): string | undefined {
  if (steps.length === 0) return 'give at least one step';
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1])) return 'steps must increase';
  if (steps.some((s) => s <= 0 || s > 100)) return 'each step is a percentage above 0 and at most 100';
  if (steps[steps.length - 1] !== 100) return 'the last step must be 100';
  return undefined;
}

/** The baseline a rollout moves traffic from when none is named: the heaviest other weighted environment. */
export function defaultBaseline(weights: Record<string, number>, target: string): string | undefined {
  return Object.entries(weights)
    .filter(([name, w]) => name !== target && w > 0)
    .sort((a, b) => b[1] - a[1])[0]?.[0];
}

const round = (x: number) => Math.round(x * 1000) / 1000;
