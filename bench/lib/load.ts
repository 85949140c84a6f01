// One autocannon run with our own latency record, so P95 (which autocannon does not report) comes
// from the same samples as P50 and P99.
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface LoadOptions {
  url: string;
  path: string;
  body: string;
  connections: number;
  durationSec: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** P50, P95 and P99 in ms (two decimals) of one run's latencies. */
function percentiles(latencies: number[]): { p50: number; p95: number; p99: number } {
  latencies.sort((a, b) => a - b);
  return { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)) };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await autocannon({
    url: o.url + o.path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: o.body,
    connections: o.connections,
    duration: o.durationSec,
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
    },
  });
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.total / o.durationSec),
    ...percentiles(latencies),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Open-loop load at a steady rate: request n is due at n / rate seconds and its latency counts from
 * then, so a stalled answer delays nothing else and is not forgiven (no coordinated omission).
 * autocannon's own rate limit releases each second's quota in one burst, which measures the burst.
 */
export async function runPaced(o: LoadOptions & { rate: number }): Promise<LoadResult> {
  const pool = new Pool(o.url, { connections: o.connections });
  const latencies: number[] = [];
  const total = Math.round(o.rate * o.durationSec);
  let sent = 0;
  let errors = 0;
  let non2xx = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const send = (due: number) =>
    pool.request({ path: o.path, method: 'POST', headers: { 'content-type': 'application/json' }, body: o.body }).then(
      async (res) => {
        await res.body.dump();
        if (res.statusCode >= 300) non2xx++;
        latencies.push(performance.now() - due);
      },
      () => void errors++,
    );
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / o.rate <= now) pending.push(send(start + (sent++ * 1000) / o.rate));
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  await pool.close();
  return { requests: latencies.length, rps: Math.round(total / o.durationSec), ...percentiles(latencies), errors, non2xx };
}
