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

/** P50, P95 and P99 in ms (two decimals) of one run's latencies (sorted in place). */
export function percentiles(latencies: number[]): { p50: number; p95: number; p99: number } {
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

export interface PacedTarget {
  name: string;
  /** Where its requests go: one URL, or several picked at random by weight (a client-side split). */
  upstreams: { url: string; weight: number }[];
}

export interface PacedOptions {
  targets: PacedTarget[];
  path: string;
  /** The request body; several are sent in turn (request n takes body n mod their count). */
  body: string | string[];
  /** Connections per upstream URL. */
  connections: number;
  durationSec: number;
  /** Requests per second to each target. */
  rate: number;
}

/**
 * Open-loop load at a steady rate: request n is due at its own instant and its latency counts from
 * then, so a stalled answer delays nothing else and is not forgiven (no coordinated omission).
 * autocannon's own rate limit releases each second's quota in one burst, which measures the burst.
 * The targets take turns within one schedule (request n goes to target n mod k), so each sees the
 * same stretch of the machine's weather: on a shared VM a scheduling hiccup of several ms lands on
 * all of them alike instead of on whichever happened to run during it.
 */
export async function runPaced(o: PacedOptions): Promise<Map<string, LoadResult>> {
  const pools = new Map<string, Pool>();
  for (const u of o.targets.flatMap((t) => t.upstreams)) if (!pools.has(u.url)) pools.set(u.url, new Pool(u.url, { connections: o.connections }));
  const pick = (t: PacedTarget) => {
    let r = Math.random() * t.upstreams.reduce((sum, u) => sum + u.weight, 0);
    for (const u of t.upstreams) if ((r -= u.weight) < 0) return pools.get(u.url)!;
    return pools.get(t.upstreams[t.upstreams.length - 1].url)!;
  };
  const stats = o.targets.map(() => ({ latencies: [] as number[], errors: 0, non2xx: 0 }));
  const perTarget = Math.round(o.rate * o.durationSec);
  const total = perTarget * o.targets.length;
  const interval = 1000 / (o.rate * o.targets.length);
  let sent = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const bodies = Array.isArray(o.body) ? o.body : [o.body];
  const send = (n: number) => {
    const due = start + n * interval;
    const s = stats[n % o.targets.length];
    return pick(o.targets[n % o.targets.length])
      .request({ path: o.path, method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[n % bodies.length] })
      .then(
        async (res) => {
          await res.body.dump();
          if (res.statusCode >= 300) s.non2xx++;
          s.latencies.push(performance.now() - due);
        },
        () => void s.errors++,
      );
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) pending.push(send(sent++));
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  await Promise.all([...pools.values()].map((p) => p.close()));
  return new Map(
    o.targets.map((t, i) => [t.name, { requests: stats[i].latencies.length, rps: o.rate, ...percentiles(stats[i].latencies), errors: stats[i].errors, non2xx: stats[i].non2xx }]),
  );
}
