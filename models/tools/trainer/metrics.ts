// Accuracy, per-class recall and macro-F1 from gold and predicted labels.
export interface ClassificationReport {
  examples: number;
  accuracy: number;
  macro_f1: number;
  recall: Record<string, number>;
  precision: Record<string, number>;
  f1: Record<string, number>;
}

export function classificationReport(labels: readonly string[], gold: readonly string[], predicted: readonly string[]): ClassificationReport {
  if (gold.length !== predicted.length || gold.length === 0) throw new Error('gold and predicted must be non-empty and of equal length');
  const recall: Record<string, number> = {};
  const precision: Record<string, number> = {};
  const f1: Record<string, number> = {};
  for (const label of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (g === label && p === label) tp++;
      else if (p === label) fp++;
      else if (g === label) fn++;
    });
    precision[label] = tp + fp ? tp / (tp + fp) : 0;
    recall[label] = tp + fn ? tp / (tp + fn) : 0;
    f1[label] = precision[label] + recall[label] ? (2 * precision[label] * recall[label]) / (precision[label] + recall[label]) : 0;
  }
  const correct = gold.filter((g, i) => g === predicted[i]).length;
  return {
    examples: gold.length,
    accuracy: correct / gold.length,
    macro_f1: labels.reduce((a, l) => a + f1[l], 0) / labels.length,
    recall,
    precision,
    f1,
  };
}
