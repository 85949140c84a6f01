// The benchmarks' one median: the middle value, or the mean of the two middle ones. Values that
// are not finite numbers (a process gone before it was read, a series missing) are left out.
export function median(xs: readonly number[]): number {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
