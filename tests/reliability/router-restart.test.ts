// The router killed (SIGKILL) while clients are connected, under npm start's launcher: it is
// restarted where clients know it, with the same weights and every replica registered again.
// Requests caught in the crash fail only with a clear connection error, and only while it is down.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { nodeChildrenOf, startLauncher } from '../helpers/launcher.ts';
import { until } from '../helpers/router.ts';
import { closedLoad, CONCURRENCY, keepLoading, record, summary, timeUntil, worst } from './harness.ts';

interface ConfigView {
  environments: { name: string; weight: number; replicas: number; healthy_replicas: number }[];
}

t.test('the router killed under load comes back with its weights and replicas', async (t) => {
  const launcher = await startLauncher(t, { environments: { blue: { version: '1.0.0', replicas: 2 }, green: { version: '1.1.0', replicas: 1 } }, weights: { blue: 70, green: 30 } });
  const changed = await launcher.admin('/admin/weights', { method: 'PUT', body: { weights: { blue: 60, green: 40 } } });
  t.equal(changed.status, 200, 'weights changed through the admin API before the crash');
  const routerPid = () => nodeChildrenOf(launcher.proc.pid!).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('router/src/server'));
  const pid = routerPid()!;
  t.ok(pid, `the router runs (pid ${pid})`);

  const load = closedLoad(launcher.base, { maxMs: 120_000 });
  t.teardown(() => load.stop());
  await keepLoading(load, 500, 10);
  const killedAt = performance.now();
  process.kill(pid, 'SIGKILL');
  const failedBefore = load.figures.sent - load.figures.ok;
  await until(() => load.figures.sent - load.figures.ok > failedBefore, 30_000, 5);
  const downFor = await timeUntil(async () => {
    const n = load.figures.timeline.length;
    return n > 20 && load.figures.timeline.slice(-20).every((a) => a.status === 200);
  }, 60_000);
  const config = await launcher.admin<ConfigView>('/admin/config');
  await until(async () => (await launcher.admin<ConfigView>('/admin/config')).body.environments.every((e) => e.healthy_replicas === e.replicas && e.replicas > 0), 60_000);
  const registered = Math.round(performance.now() - killedAt);
  await keepLoading(load, 500, 10);
  const figures = summary(await load.stop());

  t.not(routerPid(), pid, 'a new router process');
  t.same(config.body.environments.map((e) => [e.name, e.weight]), [['blue', 60], ['green', 40]], 'with the weights it had');
  const after = await launcher.admin<ConfigView>('/admin/config');
  t.same(after.body.environments.map((e) => [e.name, e.replicas]), [['blue', 2], ['green', 1]], 'and every replica registered again');
  const kinds = Object.keys(figures.failures);
  t.ok(kinds.every((k) => ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED', '503'].includes(k)), `requests caught in the crash failed only with a connection error or a 503: ${JSON.stringify(figures.failures)}`);
  const lastFailure = worst(load.figures.timeline.filter((a) => a.status !== 200).map((a) => a.at)) ?? 0;
  const lastAnswer = worst(load.figures.timeline.map((a) => a.at)) ?? 0;
  t.ok(lastFailure < lastAnswer, 'and none once it was back');
  await record({
    scenario: 'Router killed',
    what: `SIGKILL the router under npm start's launcher at c=${CONCURRENCY} (blue ×2, green ×1, weights changed to 60/40 before)`,
    ...figures,
    recovery: `serving again ${downFor} ms after the kill, on the same port, weights 60/40 kept; all 3 replicas registered and healthy after ${registered} ms; failures only while it was down (${JSON.stringify(figures.failures)})`,
  });
});

interface RolloutsView {
  current: { state: string; step_index: number } | null;
  last: { state: string; message: string } | null;
}

t.test('a rollout in progress when the router is killed goes on once the launcher has restarted it', async (t) => {
  const launcher = await startLauncher(t, { environments: { blue: { version: '1.0.0', replicas: 1 }, green: { version: '1.1.0', replicas: 1 } }, weights: { blue: 100, green: 0 } });
  const load = closedLoad(launcher.base, { maxMs: 120_000 });
  t.teardown(() => load.stop());
  const started = await launcher.admin<{ id: string }>('/admin/rollouts', { method: 'POST', body: { target: 'green', baseline: 'blue', steps: [50, 100], pause_seconds: 3, analysis: { window_seconds: 2, min_requests: 5, min_p95_increase_ms: 1000 } } });
  t.equal(started.status, 201, 'the rollout starts at its first step');
  const pid = nodeChildrenOf(launcher.proc.pid!).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('router/src/server'))!;
  process.kill(pid, 'SIGKILL');
  // Back (same port), with the rollout where it was, then to its end.
  const picked = await timeUntil(async () => (await launcher.admin<RolloutsView>('/admin/rollouts').catch(() => null))?.body.current?.step_index === 0, 60_000);
  await until(async () => ['completed', 'failed', 'aborted'].includes((await launcher.admin<RolloutsView>('/admin/rollouts').catch(() => null))?.body.last?.state ?? ''), 60_000, 200);
  const { last } = (await launcher.admin<RolloutsView>('/admin/rollouts')).body;
  t.equal(last?.state, 'completed', `the restarted router finished it (${last?.message})`);
  const trail = (await launcher.admin<{ kind: string; action: string }[]>('/admin/history?limit=100')).body.reverse().filter((e) => e.kind === 'rollout' || e.kind === 'weights');
  t.same(trail.map((e) => `${e.kind}:${e.action}`), ['rollout:started', 'weights:rollout_step', 'rollout:restored', 'weights:rollout_step', 'rollout:completed'], 'each step once, the restart in the trail');
  const figures = summary(await load.stop());
  await record({
    scenario: 'Router killed mid-rollout',
    what: `SIGKILL the router at a rollout's first step (green from blue, steps 50 → 100) under npm start's launcher at c=${CONCURRENCY}`,
    ...figures,
    recovery: `the restarted router had the rollout at its step ${picked} ms after the kill and finished it; each step applied once (${JSON.stringify(figures.failures)} while it was down)`,
  });
});
