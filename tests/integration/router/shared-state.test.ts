// Several routers sharing one Redis (Debian's redis-server, started here): the rate limit counted
// once across them, feedback sent to one router for a prediction another answered counted once in
// every report, and the store failing: predictions go on, the limit fails open (counted), feedback
// answers 503 with Retry-After; the store back (append-only file, fsync always), nothing
// acknowledged is lost.
import t, { type Test } from 'tap';
import path from 'node:path';
import { request } from 'undici';
import type { ExperimentReport } from '../../../router/src/experiments/schema.ts';
import { ROOT, startProcess } from '../../../testkit/processes.ts';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../../../testkit/redis.ts';
import type { AppConfig } from '../../../router/index.ts';
import { auth, buildRouter, until, untilAllAvailable, weightsFile } from '../../helpers/router.ts';

const skip = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
};

let redis: RunningRedis;
let replicaUrl: string;
t.before(async () => {
  if (skip) return;
  redis = await startRedis();
  const replica = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: '1.0.0', INFERENCE_WORKERS: '0' });
  t.teardown(() => replica.stop('SIGKILL'));
  replicaUrl = replica.url;
});
t.teardown(() => redis?.stop('SIGKILL'));

/** Routers in front of the same replica, sharing the store under their own key prefix. */
async function routers(t: Test, n: number, prefix: string, overrides: Partial<AppConfig> = {}, mirror = false) {
  const shadow = mirror ? `  mirror: { weight: 0, shadow: 100, replicas: [${replicaUrl}] }\n` : '';
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${replicaUrl}] }\n${shadow}`);
  return Promise.all(
    Array.from({ length: n }, async () => {
      const app = await buildRouter(t, file, { stateStore: { url: redis.url, prefix }, ...overrides });
      await untilAllAvailable(app);
      await until(() => app.stateStore!.up);
      return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
    }),
  );
}

/** router_state_store_failures_total for one operation on one router. */
async function failures(app: Awaited<ReturnType<typeof routers>>[number]['app'], operation: string): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body;
  return Number(new RegExp(`router_state_store_failures_total\\{[^}]*operation="${operation}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

const feedbackOf = async (app: Awaited<ReturnType<typeof routers>>[number]['app']) => {
  const report = (await app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport;
  return report.versions.find((v) => v.model_version === '1.0.0')?.online_accuracy.feedback ?? 0;
};

t.test('a rate limit of L across three routers lets L through, not 3L', { skip }, async (t) => {
  const rs = await routers(t, 3, 'rate-test:', { rateLimit: { max: 20, windowMs: 60_000 } });
  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) statuses.push((await post(`${rs[i % 3].url}/predict`, { text: 'a fine film' })).status);
  // A count the store did not answer in time fails open, and is counted: on a loaded machine the
  // limit may let those through, and nothing else.
  const failedOpen = (await Promise.all(rs.map(async (r) => failures(r.app, 'rate_limit')))).reduce((x, y) => x + y, 0);
  const served = statuses.filter((s) => s === 200).length;
  t.ok(served >= 20 && served <= 20 + failedOpen, `the limit served (${served}), plus at most the ${failedOpen} counts that failed open, whichever router took them`);
  t.equal(statuses.filter((s) => s === 429).length, 60 - served, 'the rest refused with 429');
});

t.test('feedback sent to router B for a prediction router A answered counts once, in every report', { skip }, async (t) => {
  const [a, b] = await routers(t, 2, 'feedback-test:');
  const answer = await post(`${a.url}/predict`, { text: 'a gripping , beautifully acted film' });
  t.equal(answer.status, 200);
  const id = answer.headers['x-request-id'] as string;
  const fed = await post(`${b.url}/feedback`, { request_id: id, label: String(answer.body.sentiment) });
  t.equal(fed.status, 202, 'router B knows what router A answered');
  const again = await post(`${a.url}/feedback`, { request_id: id, label: 'negative' });
  t.equal(again.status, 409, 'the same request given feedback again, at router A: a duplicate');
  t.equal(again.body.code, 'ERR_FEEDBACK_EXISTS');
  t.equal((await post(`${b.url}/feedback`, { request_id: 'never-answered', label: 'positive' })).status, 404);
  await until(async () => (await feedbackOf(a.app)) === 1 && (await feedbackOf(b.app)) === 1);
  t.pass('both reports count it once');
  const report = (await b.app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport;
  t.equal(report.versions.find((v) => v.model_version === '1.0.0')?.online_accuracy.correct, 1, 'as right, in the report of the router that never answered it');
});

t.test("the report's figures are every router's, the same on each; a reset on one starts them again on all", { skip }, async (t) => {
  const [a, b] = await routers(t, 2, 'report-test:', {}, true);
  for (let i = 0; i < 16; i++) t.equal((await post(`${(i < 10 ? a : b).url}/predict`, { text: i % 2 ? 'a fine film' : 'a dull film' })).status, 200);
  const rowOf = async (app: typeof a.app) => ((await app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport).versions.find((v) => v.model_version === '1.0.0');
  await until(async () => (await rowOf(a.app))?.requests === 16 && (await rowOf(b.app))?.requests === 16);
  const [ra, rb] = [await rowOf(a.app), await rowOf(b.app)];
  t.same({ p50: ra?.p50_ms, p95: ra?.p95_ms, labels: ra?.label_distribution, confidence: ra?.mean_confidence }, { p50: rb?.p50_ms, p95: rb?.p95_ms, labels: rb?.label_distribution, confidence: rb?.mean_confidence }, 'both routers report the same 16 requests: latency, label mix, confidence');
  const shadowOf = async (app: typeof a.app) => ((await app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport).shadows.find((s) => s.environment === 'mirror');
  await until(async () => (await shadowOf(a.app))?.compared === 16 && (await shadowOf(b.app))?.compared === 16);
  t.equal((await shadowOf(b.app))?.label_agreement, 1, "the shadow's agreement over both routers' mirrors, the same on each (16 compared)");

  t.equal((await a.app.inject({ method: 'POST', url: '/admin/experiments/reset', headers: auth })).statusCode, 204);
  await until(async () => (await rowOf(b.app)) === undefined || (await rowOf(b.app))?.requests === 0);
  const started = async (app: typeof a.app) => ((await app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport).started_at;
  t.equal(await started(b.app), await started(a.app), 'the other router follows the reset: the same start');
});

t.test('the store down: predictions go on, the limit fails open, feedback answers 503; back: nothing acknowledged lost', { skip }, async (t) => {
  const [a, b] = await routers(t, 2, 'fault-test:', { rateLimit: { max: 5, windowMs: 60_000 } });
  const before = await post(`${a.url}/predict`, { text: 'a charming , funny film' });
  t.equal((await post(`${b.url}/feedback`, { request_id: before.headers['x-request-id'], label: 'positive' })).status, 202, 'feedback acknowledged before the fault');

  await redis.stop('SIGKILL');
  await until(() => !a.app.stateStore!.up && !b.app.stateStore!.up);
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await post(`${(i % 2 ? b : a).url}/predict`, { text: 'a fine film' })).status);
  t.same([...new Set(statuses)], [200], 'every prediction served, past the limit of 5: the limit fails open');
  const metrics = (await a.app.inject({ url: '/metrics' })).body;
  t.match(metrics, /router_state_store_up\{[^}]*\} 0/, 'the store is shown down');
  t.ok((await failures(a.app, 'rate_limit')) + (await failures(b.app, 'rate_limit')) >= 12, 'each request let through uncounted is counted');
  const refused = await post(`${a.url}/feedback`, { request_id: before.headers['x-request-id'], label: 'positive' });
  t.equal(refused.status, 503, 'feedback cannot be recorded: 503');
  t.equal(refused.body.code, 'ERR_STATE_STORE_UNAVAILABLE');
  t.ok(refused.headers['retry-after'], 'with Retry-After');

  await redis.restart();
  await until(() => a.app.stateStore!.up && b.app.stateStore!.up, 20_000);
  const after = await post(`${a.url}/predict`, { text: 'a dull , lifeless film' });
  t.equal((await post(`${b.url}/feedback`, { request_id: after.headers['x-request-id'], label: 'negative' })).status, 202, 'feedback recorded again once the store is back');
  await until(async () => (await feedbackOf(a.app)) === 2 && (await feedbackOf(b.app)) === 2);
  t.pass('the feedback acknowledged before the kill is still counted (append-only file, fsync always)');
});
