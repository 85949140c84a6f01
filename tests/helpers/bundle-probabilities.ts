// A bundle's probabilities for some texts through the serving code (loader, tokenizer, batcher,
// onnxruntime), one row per text in the bundle's label order: for comparing a rewritten graph
// (quantized, merged) with the original.
import { loadBundle, Predictor } from '../../services/inference/index.ts';

export async function bundleProbabilities(dir: string, texts: string[]): Promise<number[][]> {
  const bundle = await loadBundle(dir, { workers: 0, intraOpThreads: 1, interOpThreads: 1 });
  try {
    return (await new Predictor(bundle, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 100, concurrency: 1 }).predict(texts)).map((p) => bundle.labels.map((l) => p.probabilities[l]));
  } finally {
    await bundle.classifier.release();
  }
}
