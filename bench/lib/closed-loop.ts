// A closed loop (shared/load's) for a fixed time, with latencies and failures counted: the same driver for any client (undici for REST, @grpc/grpc-js for
// gRPC), so protocols are compared with the same load generator in the same process.
import { closedLoop } from '../../shared/load/closed-loop.ts';
import { percentiles, type LoadResult } from './load.ts';

/** One request; resolves true when it was answered successfully, false for a non-2xx (or non-OK) answer; rejects on a transport error. */
export type Send = () => Promise<boolean>;

export async function runClosedLoop(send: Send, concurrency: number, durationSec: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  await closedLoop(async () => {
    const started = performance.now();
    try {
      if (await send()) latencies.push(performance.now() - started);
      else non2xx++;
    } catch {
      errors++;
    }
  }, { concurrency, maxMs: durationSec * 1000 }).done;
  return { requests: latencies.length, rps: Math.round(latencies.length / durationSec), ...percentiles(latencies), errors, non2xx };
}
