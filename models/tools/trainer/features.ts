// Hashed word-piece bigrams, computed the same way here (training) and inside the ONNX graph
// (serving): bucket = (id[t] * BIGRAM_MULTIPLIER + id[t+1]) mod buckets.
export const BIGRAM_MULTIPLIER = 1_000_003;

export function bigramBuckets(ids: readonly number[], buckets: number): number[] {
  const out: number[] = [];
  for (let t = 0; t + 1 < ids.length; t++) out.push((ids[t] * BIGRAM_MULTIPLIER + ids[t + 1]) % buckets);
  return out;
}
