// Reading Prometheus text exposition (GET /metrics) in tests and benchmarks: the value of every
// series of one metric, in the order they appear.
export function metricSamples(text: string, name: string): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) values.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  return values;
}

/** A metric's values added up over all its series (0 when it has none). */
export function metricSum(text: string, name: string): number {
  return metricSamples(text, name).reduce((a, b) => a + b, 0);
}

/** Every series of one metric with its labels, e.g. to add up a counter by one label. */
export function metricSeries(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const series: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf('}');
    const labels = Object.fromEntries([...(close > 0 ? line.slice(name.length + 1, close) : '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    series.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return series;
}

/** A metric's values added up by one label (series without it are left out). */
export function sumBy(text: string, name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, value } of metricSeries(text, name)) if (labels[label] !== undefined) sums.set(labels[label], (sums.get(labels[label]) ?? 0) + value);
  return sums;
}
