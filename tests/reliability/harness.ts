// The reliability suite's shared parts. Each scenario runs short in `npm test` (a few seconds,
// checking what must hold) and long under `npm run test:reliability` (20–30 s at c=50, as the
// issue of record asks), and leaves its measured figures in tests/artifacts/reliability/, from
// which tests/reliability/report.ts writes the table in docs/reliability.md.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { Agent, request } from 'undici';
import { closedLoop } from '../../shared/load/closed-loop.ts';
import { tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { metricSum } from '../../testkit/metrics-text.ts';
import { ROOT, rssBytes, startProcess, type RunningProcess } from '../../testkit/processes.ts';
import { until } from '../helpers/router.ts';

export const LONG = process.env.RELIABILITY === 'long';
export const RESULTS_DIR = path.join(ROOT, 'tests/artifacts/reliability');

/** Milliseconds: the short run's or the long run's. */
export const duration = (shortSeconds: number, longSeconds: number) => (LONG ? longSeconds : shortSeconds) * 1000;
export const CONCURRENCY = LONG ? 50 : 20;

export interface Figures {
  scenario: string;
  what: string;
  sent: number;
  failed: number;
  /** Failures by status or error code. */
  failures: Record<string, number>;
  p99_ms: number | null;
  worst_ms: number | null;
  recovery: string;
  notes?: string;
}

export async function record(figures: Figures): Promise<void> {
  await fs.mkdir(RESULTS_DIR, { recursive: true });
  const slug = figures.scenario.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  await fs.writeFile(path.join(RESULTS_DIR, `${slug}.json`), `${JSON.stringify({ ...figures, mode: LONG ? 'long' : 'short', at: new Date().toISOString() }, null, 2)}\n`);
}

export interface LoadFigures {
  sent: number;
  ok: number;
  failures: Record<string, number>;
  latencies: number[];
  /** When each answer came back, and its status (0: no answer). */
  timeline: { at: number; status: number; ms: number }[];
}

export const percentile = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] * 10) / 10;
};

export const summary = (load: LoadFigures) => ({
  sent: load.sent,
  failed: load.sent - load.ok,
  failures: load.failures,
  p99_ms: percentile(load.latencies, 0.99),
  worst_ms: worst(load.latencies),
});

/** The largest value (no spread: a long run records more latencies than a call takes arguments). */
export const worst = (values: number[]) => (values.length ? Math.round(values.reduce((a, b) => (b > a ? b : a), 0)) : null);

export interface LoadOptions {
  concurrency?: number;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Stops by itself after this long, whatever happens. */
  maxMs?: number;
}

/**
 * Closed-loop load: `concurrency` clients sending back to back (to several routers in turn when
 * given several bases), each answer's status and latency recorded, until stopped (bounded in time
 * by maxMs).
 */
export function closedLoad(base: string | string[], o: LoadOptions = {}): { figures: LoadFigures; stop: () => Promise<LoadFigures> } {
  const bases = typeof base === 'string' ? [base] : base;
  const concurrency = o.concurrency ?? CONCURRENCY;
  const figures: LoadFigures = { sent: 0, ok: 0, failures: {}, latencies: [], timeline: [] };
  const agent = new Agent({ connections: concurrency, pipelining: 1 });
  const fail = (key: string) => (figures.failures[key] = (figures.failures[key] ?? 0) + 1);
  const loop = closedLoop(async (i) => {
    figures.sent++;
    const started = performance.now();
    let status = 0;
    try {
      const res = await request(`${bases[i % bases.length]}${o.path ?? '/predict'}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...o.headers },
        body: o.body ?? '{"text":"a charming , funny film"}',
      });
      status = res.statusCode;
      await res.body.dump();
      if (status === 200) figures.ok++;
      else fail(String(status));
    } catch (err) {
      fail((err as NodeJS.ErrnoException).code ?? (err as Error).name);
    }
    const ms = performance.now() - started;
    figures.latencies.push(ms);
    figures.timeline.push({ at: Date.now(), status, ms });
  }, { concurrency, maxMs: o.maxMs ?? 120_000 });
  let stopped: Promise<LoadFigures> | undefined;
  return {
    figures,
    stop: () =>
      (stopped ??= (async () => {
        await loop.stop();
        await agent.close();
        return figures;
      })()),
  };
}

export interface Topology {
  router: RunningProcess;
  replicas: Record<string, RunningProcess[]>;
  weightsFile: string;
}

export const ADMIN_TOKEN = 'reliability-admin-token-0123456789';
export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * A real router process in front of real inference service processes (the fixture bundle), each
 * environment's replicas given by `upstreams` (another address in front of one, a fault proxy,
 * may be swapped in through `through`).
 */
export async function startTopology(
  t: Test,
  counts: Record<string, number>,
  o: { weights?: Record<string, number>; routerEnv?: Record<string, string>; replicaEnv?: Record<string, string>; bundle?: string; through?: (environment: string, index: number, url: string) => Promise<string> } = {},
): Promise<Topology> {
  const bundle = o.bundle ?? (await tempFixtureBundle());
  const replicas: Record<string, RunningProcess[]> = {};
  for (const [environment, n] of Object.entries(counts)) {
    // Each one is stopped with the test even when another fails to start.
    replicas[environment] = await Promise.all(
      Array.from({ length: n }, async () => {
        const replica = await startProcess({ MODEL_DIR: bundle, INFERENCE_WORKERS: '0', ...o.replicaEnv });
        t.teardown(() => replica.stop('SIGKILL'));
        return replica;
      }),
    );
  }
  const lines = ['environments:'];
  for (const [environment, list] of Object.entries(replicas)) {
    const urls = await Promise.all(list.map((r, i) => (o.through ? o.through(environment, i, r.url) : r.url)));
    lines.push(`  ${environment}: { weight: ${o.weights?.[environment] ?? 1}, replicas: [${urls.join(', ')}] }`);
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reliability-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const weightsFile = path.join(dir, 'weights.yaml');
  await fs.writeFile(weightsFile, `${lines.join('\n')}\n`);
  const router = await startProcess(
    { ROUTER_WEIGHTS_FILE: weightsFile, ROUTER_ADMIN_TOKEN: ADMIN_TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '200', ROUTER_RATE_LIMIT_MAX: '0', ...o.routerEnv },
    path.join(ROOT, 'router/src/server.ts'),
  );
  t.teardown(() => router.stop('SIGKILL'));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  await until(async () => (await replicaStates(router.url)).filter((r) => r.available).length === total, 30_000);
  return { router, replicas, weightsFile };
}

export interface ReplicaState {
  environment: string;
  url: string;
  healthy: boolean;
  available: boolean;
  ejections: number;
}

export async function replicaStates(base: string): Promise<ReplicaState[]> {
  const res = await request(`${base}/admin/replicas`, { headers: adminHeaders });
  return (await res.body.json()) as ReplicaState[];
}

/** A counter's value summed over its series, read from /metrics. */
export async function counter(base: string, name: string): Promise<number> {
  const text = await (await request(`${base}/metrics`)).body.text();
  return metricSum(text, name);
}

/** Resolves when `check` holds, with the milliseconds it took. */
export async function timeUntil(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  await until(check, timeoutMs, 20);
  return Math.round(performance.now() - started);
}

/**
 * Lets the load run on: in the short run until it has sent `requests` more (a condition, so a
 * slow machine only takes longer); in the long run for `seconds`, the scenario's stated length.
 */
export async function keepLoading(load: { figures: LoadFigures }, requests: number, seconds: number): Promise<void> {
  if (LONG) {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return;
  }
  const target = load.figures.sent + requests;
  await until(() => load.figures.sent >= target, 120_000, 20);
}

export interface OpenFigures {
  sent: number;
  statuses: Record<string, number>;
  okLatencies: number[];
  shedLatencies: number[];
  shedWithRetryAfter: number;
}

/**
 * Open-loop load: requests leave at `rps` whether or not earlier ones were answered, as real
 * traffic does (a closed loop slows down with the server and hides overload), for `ms`; at most
 * `maxOutstanding` unanswered at once.
 */
export async function openLoad(base: string, rps: number, ms: number, maxOutstanding = 5000): Promise<OpenFigures> {
  const figures: OpenFigures = { sent: 0, statuses: {}, okLatencies: [], shedLatencies: [], shedWithRetryAfter: 0 };
  const agent = new Agent({ connections: 512, pipelining: 1 });
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const one = async () => {
    const t0 = performance.now();
    let status = 'error';
    try {
      const res = await request(`${base}/predict`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: '{"text":"a charming , funny film"}' });
      status = String(res.statusCode);
      await res.body.dump();
      const elapsed = performance.now() - t0;
      if (res.statusCode === 200) figures.okLatencies.push(elapsed);
      if (res.statusCode === 503) {
        figures.shedLatencies.push(elapsed);
        if (res.headers['retry-after']) figures.shedWithRetryAfter++;
      }
    } catch (err) {
      status = (err as NodeJS.ErrnoException).code ?? 'error';
    }
    figures.statuses[status] = (figures.statuses[status] ?? 0) + 1;
  };
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * rps);
    while (figures.sent < due && pending.size < maxOutstanding) {
      figures.sent++;
      const p: Promise<void> = one().finally(() => pending.delete(p));
      pending.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  await agent.close();
  return figures;
}

/** Resident memory of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  return Math.round(rssBytes(pid) / 2 ** 20);
}
