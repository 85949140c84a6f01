// Length-aware batching: a batch of texts padded to its longest costs rows × longest tokens of
// compute, so one long text among short ones makes the whole batch pay for its length. Sorted by
// length and cut where it pays, the batch runs as a few calls of similar lengths instead; each
// extra call costs a fixed overhead (callCost, in tokens). The cut is optimal for that cost model
// (dynamic programming over the sorted lengths: O(n²) for n rows, microseconds for a batch).

/** Groups of row indices, each to be padded and run on its own; one group when splitting does not pay. */
export function lengthGroups(lengths: readonly number[], callCost: number): number[][] {
  const n = lengths.length;
  if (n <= 1 || callCost <= 0) return [lengths.map((_, i) => i)];
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  const sorted = order.map((i) => lengths[i]);
  // best[i]: the cheapest cost of the first i sorted rows; cut[i]: where its last group starts.
  const best = new Float64Array(n + 1);
  const cut = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    best[i] = Infinity;
    for (let j = 0; j < i; j++) {
      const cost = best[j] + (i - j) * sorted[i - 1] + callCost;
      if (cost < best[i]) {
        best[i] = cost;
        cut[i] = j;
      }
    }
  }
  const groups: number[][] = [];
  for (let i = n; i > 0; i = cut[i]) groups.unshift(order.slice(cut[i], i));
  return groups;
}
