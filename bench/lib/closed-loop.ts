// A closed loop of `concurrency` callers, each sending its next request as soon as the last one is
// answered, for a fixed time: the same driver for any client (undici for REST, @grpc/grpc-js for
// gRPC), so protocols are compared with the same load generator in the same process.
import { percentiles, type LoadResult } from './load.ts';

/** One request; resolves true when it was answered successfully, false for a non-2xx (or non-OK) answer; rejects on a transport error. */
export type Send = () => Promise<boolean>;

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
  return { requests: latencies.length, rps: Math.round(latencies.length / durationSec), ...percentiles(latencies), errors, non2xx };
}
