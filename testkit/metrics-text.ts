// Reading Prometheus text exposition (GET /metrics) in tests and benchmarks: the value of every
// series of one metric, in the order they appear.
export function metricSamples(text: string, name: string): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) values.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  return values;
}
