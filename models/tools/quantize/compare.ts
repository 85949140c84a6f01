// A quantized bundle against its original on labelled texts, both through the serving code path:
// the share of texts given the same label, and each one's classification report.
import type { LabelledText } from '../trainer/data.ts';
import { predictLabels } from '../trainer/evaluate.ts';
import { classificationReport, type ClassificationReport } from '../trainer/metrics.ts';

export interface Comparison {
  agreement: number;
  original: ClassificationReport;
  quantized: ClassificationReport;
}

export async function compareBundles(originalDir: string, quantizedDir: string, examples: LabelledText[]): Promise<Comparison> {
  const texts = examples.map((e) => e.text);
  const gold = examples.map((e) => e.label);
  const a = await predictLabels(originalDir, texts);
  const b = await predictLabels(quantizedDir, texts);
  return {
    agreement: a.labels.filter((label, i) => label === b.labels[i]).length / texts.length,
    original: classificationReport(a.classes, gold, a.labels),
    quantized: classificationReport(b.classes, gold, b.labels),
  };
}
