// Router test helpers: a temp weights file, an app on it, and tiny upstream processes.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { build, loadRouterConfig, type AppConfig } from '../../router/index.ts';
import { ROOT, startProcess, type RunningProcess } from '../../testkit/processes.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export async function weightsFile(t: Test, yaml: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weights-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'weights.yaml');
  await fs.writeFile(file, yaml);
  return file;
}

/**
 * The configuration a test router runs with, built by the router's own loader: the defaults, with
 * what tests need (a temp weights file, quick health checks, no rate limit, no guard), then the
 * test's own changes to the app's configuration.
 */
export function routerConfig(file: string, overrides: Partial<AppConfig> = {}): AppConfig {
  const base = loadRouterConfig({ ROUTER_ADMIN_TOKEN: ADMIN_TOKEN }, {
    weights_file: file,
    log_level: 'silent',
    replica: { connect_timeout_ms: 500, headers_timeout_ms: 5000, pool_connections: 16 },
    health: { interval_ms: 100 },
    eject: { base_ms: 1000, max_ms: 5000 },
    rate_limit: { max: 0 },
    feedback: { memory: 10_000 },
    guard: { mode: 'off' },
  });
  return { ...base, ...overrides };
}

export async function buildRouter(t: Test, file: string, overrides: Partial<AppConfig> = {}) {
  const app = await build(routerConfig(file, overrides));
  await app.ready();
  t.teardown(() => app.close());
  return app;
}

export async function tinyUpstream(t: Test, name: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const proc = await startProcess({ UPSTREAM_NAME: name, ...env }, path.join(ROOT, 'tests/fixtures/tiny-upstream.mjs'));
  t.teardown(() => proc.stop('SIGKILL'));
  return proc;
}

type RouterApp = Awaited<ReturnType<typeof buildRouter>>;

/** Every replica as GET /admin/replicas shows it. */
export const replicas = async (app: RouterApp) =>
  (await app.inject({ url: '/admin/replicas', headers: auth })).json() as { url: string; healthy: boolean; available: boolean; in_flight: number; concurrency: number; last_check_error: string | null }[];

/** Resolves once every registered replica passes its checks and takes traffic. */
export const untilAllAvailable = (app: RouterApp) => until(async () => (await replicas(app)).every((r) => r.available));

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 50): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return Date.now() - started;
}

/** A small real upstream in this process: ready, and answering /predict/batch after `delayMs`. */
/** A replica answering batches after `delayMs` (or, as a function, after what it says for its n-th batch, from 0). */
/** A replica's batch answer that says "positive" for every text (what slowBatchUpstream answers with, say). */
export const positiveBatch = (texts: string[]) => ({ predictions: texts.map((text) => ({ text, sentiment: 'positive', confidence: 0.9, probabilities: { positive: 0.9, negative: 0.1 } })), count: texts.length, latency_ms: 1, model_version: '1.0.0' });

export async function slowBatchUpstream(t: Test, delayMs: number | ((n: number) => number), answer: (texts: string[]) => unknown, concurrency?: number) {
  let batches = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/health/ready') return res.end('{"status":"ok"}');
      if (req.url === '/info') return res.end(JSON.stringify({ name: 'sentiment', version: '1.0.0', concurrency }));
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer((JSON.parse(body) as { texts: string[] }).texts)));
      }, typeof delayMs === 'number' ? delayMs : delayMs(batches++));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
