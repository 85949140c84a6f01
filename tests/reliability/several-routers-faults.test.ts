// Three routers sharing one Redis, under load spread over them, mid-rollout: the elected
// controller SIGKILLed (another takes the lease and finishes the rollout from its kept step, every
// step once), and the store SIGKILLed and restarted (predictions go on on the last weights, the
// rollout waits with the reason shown and finishes once the store is back, nothing acknowledged
// lost).
import t from 'tap';
import { REDIS_SERVER, startRedis } from '../../testkit/redis.ts';
import { until } from '../helpers/router.ts';
import { admin, configs, rolloutViews, startRouters, threeReplicas, weightsIn, type HistoryEntry, type RolloutView } from '../helpers/several-routers.ts';
import { closedLoad, CONCURRENCY, duration, keepLoading, record, summary, timeUntil } from './harness.ts';

const skip = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';

t.test('the controller SIGKILLed mid-rollout: another router takes over and finishes it, every step once', { skip }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop('SIGKILL'));
  const rs = await startRouters(t, { store: redis.url, replicas: await threeReplicas(t), prefix: 'controller-killed:' });
  const leaderId = (await configs(rs))[0].controller.leader!;
  const leader = rs.find((r) => r.id === leaderId)!;
  const others = rs.filter((r) => r !== leader);
  const pause = duration(2, 10) / 1000;
  const started = await admin<RolloutView>(others[0].url, 'POST', '/admin/rollouts', { target: 'green', baseline: 'blue', steps: [50, 75, 100], pause_seconds: pause, analysis: false });
  t.equal(started.status, 201, `a rollout started through ${others[0].id} (${leaderId} leads)`);

  const load = closedLoad(others.map((r) => r.url), { maxMs: 240_000 });
  t.teardown(() => load.stop());
  await keepLoading(load, 200, 2);
  leader.proc.proc.kill('SIGKILL');
  const tookOver = await timeUntil(async () => {
    const c = (await configs(others)).map((v) => v.controller);
    return c.every((v) => v.leader !== null && v.leader !== leaderId && v.leader === c[0].leader);
  }, 30_000);
  const newLeader = (await configs(others))[0].controller.leader;
  t.pass(`${newLeader} leads ${tookOver} ms after the kill (lease: 5 s)`);
  await until(async () => (await rolloutViews(others)).every((v) => v.last?.id === started.body.id), 120_000);
  const figures = summary(await load.stop());

  const views = await rolloutViews(others);
  t.ok(views.every((v) => v.current === null && v.last?.state === 'completed'), `the rollout completed: ${views[0].last?.message}`);
  t.equal(figures.failed, 0, `no request failed through the other two routers (${figures.sent} sent)`);
  t.ok((await configs(others)).every((c) => weightsIn(c).green === 95 && weightsIn(c).blue === 0), 'both end on the last step\'s weights');
  const trail = (await admin<HistoryEntry[]>(others[0].url, 'GET', '/admin/history?limit=100')).body.reverse();
  const steps = trail.filter((e) => e.kind === 'weights' && e.action === 'rollout_step');
  t.same(steps.map((e) => e.weights_after?.green), [47.5, 71.25, 95], 'each step applied once, in order');
  t.ok(trail.some((e) => e.kind === 'rollout' && e.action === 'restored' && e.router === newLeader), 'the new controller says it picked the rollout up');
  t.equal(trail.filter((e) => e.kind === 'rollout' && e.action === 'completed').length, 1, 'completed once');
  await record({
    scenario: 'Controller killed',
    what: `3 routers on one Redis, rollout of green (steps 50/75/100, ${pause} s each) started through a router that does not lead; SIGKILL the controller at step 1, load at c=${CONCURRENCY} over the other two`,
    ...figures,
    recovery: `${newLeader} took the lease ${tookOver} ms after the kill and finished the rollout from its kept step: steps ${steps.map((e) => e.weights_after?.green).join(' → ')} (green's weight), each once`,
  });
});

t.test('the store SIGKILLed mid-rollout and restarted: predictions go on, the rollout waits, then finishes', { skip }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop('SIGKILL'));
  const rs = await startRouters(t, { store: redis.url, replicas: await threeReplicas(t), prefix: 'store-killed:' });
  const started = await admin<RolloutView>(rs[0].url, 'POST', '/admin/rollouts', { target: 'green', baseline: 'blue', steps: [50, 100], pause_seconds: 3, analysis: false });
  t.equal(started.status, 201, 'a rollout started');
  const load = closedLoad(rs.map((r) => r.url), { maxMs: 240_000 });
  t.teardown(() => load.stop());
  await keepLoading(load, 200, 2);

  await redis.stop('SIGKILL');
  const heldAfter = await timeUntil(async () => (await rolloutViews(rs)).every((v) => !v.controller.leading && v.controller.paused_reason !== null), 30_000);
  const held = (await rolloutViews(rs))[1];
  t.ok(held.current?.id === started.body.id && held.current.state === 'progressing', `the rollout waits at step ${(held.current?.step_index ?? 0) + 1}: ${held.controller.paused_reason}`);
  const refused = await admin<{ code: string }>(rs[2].url, 'PUT', '/admin/weights', { weights: { canary: 1 } });
  t.equal(refused.status, 503, 'a weights change is refused while the store is away');
  t.equal(refused.body.code, 'ERR_STATE_STORE_UNAVAILABLE');
  await keepLoading(load, 200, duration(2, 10) / 1000);

  await redis.restart();
  const finished = await timeUntil(async () => (await rolloutViews(rs)).every((v) => v.last?.id === started.body.id), 120_000);
  const figures = summary(await load.stop());
  t.equal(figures.failed, 0, `0 of ${figures.sent} predictions failed`);
  const views = await rolloutViews(rs);
  t.ok(views.every((v) => v.last?.state === 'completed'), `the rollout finished once the store was back: ${views[0].last?.message}`);
  const trail = (await admin<HistoryEntry[]>(rs[0].url, 'GET', '/admin/history?limit=100')).body.reverse();
  t.equal(trail.filter((e) => e.kind === 'rollout' && e.action === 'started').length, 1, 'the start, acknowledged before the crash, is still in the trail');
  t.same(trail.filter((e) => e.kind === 'weights' && e.action === 'rollout_step').map((e) => e.weights_after?.green), [47.5, 95], 'each step once');
  await record({
    scenario: 'State store killed',
    what: `3 routers on one Redis (append-only file, fsync always), rollout of green in progress; SIGKILL redis-server, restart it, load at c=${CONCURRENCY} over the three`,
    ...figures,
    recovery: `every router served on its last weights; the controller's lease ran out and the rollout waited (shown ${heldAfter} ms after the kill), weight changes answered 503; with the store back the rollout finished ${finished} ms after the restart, each step once, the acknowledged start kept`,
  });
});
