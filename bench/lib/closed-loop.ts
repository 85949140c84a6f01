// A closed loop of `concurrency` callers, each sending its next request as soon as the last one is
// answered, for a fixed time: the same driver for any client (undici for REST, @grpc/grpc-js for
// gRPC), so protocols are compared with the same load generator in the same process.
import type { LoadResult } from './load.ts';

/** One request; resolves true when it was answered successfully, false for a non-2xx (or non-OK) answer; rejects on a transport error. */
export type Send = () => Promise<boolean>;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (x: number) => Math.round(x * 100) / 100;

export async function runClosedLoop(send: Send, concurrency: number, durationSec: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const end = performance.now() + durationSec * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        try {
          if (await send()) latencies.push(performance.now() - started);
          else non2xx++;
        } catch {
          errors++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: Math.round(latencies.length / durationSec),
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    errors,
    non2xx,
  };
}
