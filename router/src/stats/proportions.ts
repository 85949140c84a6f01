// An accuracy from feedback with its 95% Wilson interval, free of HTTP (the A/B report's). Comparing
// two of them is stats/sequential.ts's job: a test that stays valid when read at every step.

export interface Accuracy {
  feedback: number;
  correct: number;
  accuracy: number | null;
  /** 95% Wilson score interval. */
  ci95: [number, number] | null;
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

const round = (x: number) => Math.round(x * 10_000) / 10_000;
