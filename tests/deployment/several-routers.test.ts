// Three router processes in front of the same real replicas, sharing one Redis (Debian's
// redis-server, started here), clients spreading requests over them: the split and sticky users
// as one router gives them, a weight change on one applied by all, one elected controller, and a
// rollout started through a router that does not lead, seen identically on all, every step once;
// a bandit learning from feedback sent to any router, its weights moved by the controller alone.
// The controller and the store killed mid-rollout: tests/reliability/several-routers-faults.test.ts.
import t from 'tap';
import { request } from 'undici';
import { closedLoop } from '../../shared/load/closed-loop.ts';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../../testkit/redis.ts';
import { until } from '../helpers/router.ts';
import { admin, configs, rolloutViews, startRouters, threeReplicas, weightsIn, type ConfigView, type HistoryEntry, type RolloutView } from '../helpers/several-routers.ts';

const skip = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';

let redis: RunningRedis;
let replicas: Record<string, string>;
t.before(async () => {
  if (skip) return;
  redis = await startRedis();
  replicas = await threeReplicas(t);
});
t.teardown(() => redis?.stop('SIGKILL'));

t.test('three routers split, keep users sticky and change weights as one', { skip }, async (t) => {
  const rs = await startRouters(t, { store: redis.url, replicas, prefix: 'split-test:' });
  const first = await configs(rs);
  t.ok(first.every((c) => c.weights_kept_in === 'store'), 'the weights are live state in the store');
  t.equal(first.filter((c) => c.controller.leading).length, 1, `one controller: ${first[0].controller.leader}`);
  t.ok(first.every((c) => c.generation === first[0].generation && c.controller.leader === first[0].controller.leader), 'every router shows the same generation and leader');
  await until(async () => (await configs(rs)).every((c) => c.controller.routers.join() === 'router-1,router-2,router-3'));
  t.pass('and every router lists the three');

  const counts: Record<string, number> = {};
  const failed: string[] = [];
  const total = 10_000;
  const loop = closedLoop(async (i) => {
    try {
      const res = await request(`${rs[i % rs.length].url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a charming , funny film"}' });
      await res.body.text();
      if (res.statusCode !== 200) failed.push(String(res.statusCode));
      else counts[String(res.headers['x-environment'])] = (counts[String(res.headers['x-environment'])] ?? 0) + 1;
    } catch (err) {
      failed.push((err as Error).message);
    }
  }, { concurrency: 24, maxMs: 240_000, total });
  await loop.done;
  t.same(failed, [], 'no request failed');
  for (const [environment, percent] of Object.entries({ blue: 70, green: 25, canary: 5 })) {
    const share = ((counts[environment] ?? 0) / total) * 100;
    t.ok(Math.abs(share - percent) <= 2, `${environment}: ${share.toFixed(2)}% of ${total} requests over three routers (weight ${percent}%, ±2 points)`);
  }
  const totalOf = async (base: string) => Object.values((await admin<{ environments: Record<string, { requests: number }> }>(base, 'GET', '/admin/stats?window=60')).body.environments).reduce((n, e) => n + e.requests, 0);
  await until(async () => (await Promise.all(rs.map((r) => totalOf(r.url)))).every((n) => n === total), 20_000);
  t.pass(`GET /admin/stats on each router counts the three routers' traffic: ${total} requests (what rollout analyses and the guard judge)`);

  for (let user = 0; user < 20; user++) {
    const seen = new Set<string>();
    for (const r of rs) {
      for (let i = 0; i < 3; i++) {
        const res = await request(`${r.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': `user-${user}` }, body: '{"text":"fine"}' });
        await res.body.text();
        seen.add(String(res.headers['x-environment']));
      }
    }
    if (seen.size !== 1) t.fail(`user-${user} landed on ${[...seen].join(' and ')}`);
  }
  t.pass('20 users each stay in one environment through every router');

  const changedAt = Date.now();
  const changed = await admin<ConfigView>(rs[1].url, 'PUT', '/admin/weights', { weights: { blue: 20, green: 75, canary: 5 } });
  t.equal(changed.status, 200, 'weights changed through router-2');
  await until(async () => (await configs(rs)).every((c) => c.generation === changed.body.generation && weightsIn(c).green === 75), 10_000, 20);
  t.pass(`every router applies it in ${Date.now() - changedAt} ms (goal: 1 s), at generation ${changed.body.generation}`);
  const trail = (await admin<HistoryEntry[]>(rs[2].url, 'GET', '/admin/history?kind=weights&limit=5')).body;
  t.equal(trail[0].action, 'admin', 'the shared trail, read through router-3, has the change first');
  t.equal(trail[0].router, 'router-2', 'made by router-2');
  t.equal(trail.filter((e) => e.action === 'admin').length, 1, 'recorded once, not once per router');
});

t.test('a rollout started through a router that does not lead advances, the same on every router', { skip }, async (t) => {
  const rs = await startRouters(t, { store: redis.url, replicas, prefix: 'rollout-test:' });
  const leaderId = (await configs(rs))[0].controller.leader!;
  const other = rs.find((r) => r.id !== leaderId)!;
  const started = await admin<RolloutView>(other.url, 'POST', '/admin/rollouts', { target: 'green', baseline: 'blue', steps: [50, 100], pause_seconds: 1, analysis: false });
  t.equal(started.status, 201, `started through ${other.id}, which does not lead (${leaderId} does)`);
  await until(async () => (await rolloutViews(rs)).every((v) => v.current?.id === started.body.id && v.current.step_index === 0));
  t.pass('every router shows it at its first step');
  await until(async () => (await rolloutViews(rs)).every((v) => v.current === null && v.last?.id === started.body.id), 30_000);
  const views = await rolloutViews(rs);
  t.ok(views.every((v) => v.last?.state === 'completed'), `every router shows it completed: ${views[0].last?.message}`);
  t.ok((await configs(rs)).every((c) => weightsIn(c).green === 95 && weightsIn(c).blue === 0), 'and the same weights');
  const trail = (await admin<HistoryEntry[]>(rs[0].url, 'GET', '/admin/history?limit=50')).body.reverse();
  const steps = trail.filter((e) => e.kind === 'weights' && e.action === 'rollout_step');
  t.same(steps.map((e) => e.weights_after?.green), [47.5, 95], 'each step applied once');
  t.equal(steps[1].router, leaderId, 'the second by the controller');
  t.equal(trail.find((e) => e.kind === 'rollout' && e.action === 'started')?.router, other.id, 'the start by the router that took the call');
});

t.test("a bandit started through a router that does not lead: every router's feedback counts, the controller alone moves the weights", { skip }, async (t) => {
  const rs = await startRouters(t, { store: redis.url, replicas, prefix: 'bandit-test:' });
  const leaderId = (await configs(rs))[0].controller.leader!;
  const other = rs.find((r) => r.id !== leaderId)!;
  const started = await admin<{ id: string }>(other.url, 'POST', '/admin/bandit', { arms: ['blue', 'green', 'canary'], interval_seconds: 1, min_feedback: 10, seed: 5 });
  t.equal(started.status, 201, `started through ${other.id}, which does not lead`);
  type Bandit = { bandit: { id: string; updates: number; state: string } | null };
  const bandits = () => Promise.all(rs.map(async (r) => (await admin<Bandit>(r.url, 'GET', '/admin/bandit')).body.bandit));
  // Each prediction answered by one router gets its label through the next; how often the model
  // was right depends on the environment: green 90%, blue 60%, the canary 50%.
  const accuracy: Record<string, number> = { blue: 0.6, green: 0.9, canary: 0.5 };
  let sent = 0;
  const refused: number[] = [];
  const settled = async () => {
    const [views, cs] = [await bandits(), await configs(rs)];
    return views.every((b) => b?.id === started.body.id && b.updates >= 1) && cs.every((c) => weightsIn(c).green > weightsIn(c).blue && weightsIn(c).green > weightsIn(c).canary);
  };
  const deadline = Date.now() + 90_000;
  while (!(sent % 30 === 0 && (await settled()))) {
    if (Date.now() > deadline) throw new Error(`the bandit did not move the weights after ${sent} labelled predictions`);
    const answer = await request(`${rs[sent % 3].url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a charming , funny film"}' });
    const body = (await answer.body.json()) as { sentiment: string };
    const environment = String(answer.headers['x-environment']);
    const truth = Math.random() < accuracy[environment] ? body.sentiment : body.sentiment === 'positive' ? 'negative' : 'positive';
    const fed = await request(`${rs[(sent + 1) % 3].url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: answer.headers['x-request-id'], label: truth }) });
    await fed.body.text();
    if (fed.statusCode !== 202) refused.push(fed.statusCode);
    sent++;
  }
  t.same(refused, [], 'every label, sent to another router than the one that answered, taken');
  const cs = await configs(rs);
  t.ok(cs.every((c) => JSON.stringify(weightsIn(c)) === JSON.stringify(weightsIn(cs[0]))), `every router shows the same weights: ${JSON.stringify(weightsIn(cs[0]))} after ${sent} labelled predictions`);
  const trail = (await admin<HistoryEntry[]>(rs[0].url, 'GET', '/admin/history?limit=200')).body;
  const moves = trail.filter((e) => e.kind === 'weights' && e.action === 'bandit');
  t.ok(moves.length >= 1 && moves.every((e) => e.router === leaderId), `${moves.length} weight changes by the bandit, each by the controller (${leaderId})`);
  t.equal(trail.find((e) => e.kind === 'bandit' && e.action === 'started')?.router, other.id, 'the start by the router that took the call');
  const third = rs.find((r) => r.id !== leaderId && r.id !== other.id)!;
  t.equal((await admin<{ state: string }>(third.url, 'POST', '/admin/bandit/stop')).body.state, 'stopped', 'stopped through a third router');
  await until(async () => (await bandits()).every((b) => b?.state === 'stopped'));
  t.pass('and every router shows it stopped');
});
