// The bandit on a real router in front of real upstream processes: feedback whose accuracy differs
// by environment moves the weights towards the most accurate one (cause `bandit`, each arm's
// posterior in the trail), every arm kept at its floor; an arm someone else sets to 0 (the guard's
// veto) is excluded for good; a rollback stops it and restores the weights from before; a bandit
// and a rollout never run at once; a restarted router goes on with it.
import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HistoryEntry } from '../../../router/src/history/schema.ts';
import type { BanditsView, BanditView } from '../../../router/src/rollouts/bandit-schema.ts';
import { Random } from '../../../shared/random.ts';
import { auth, buildRouter, tinyUpstream, until, untilAllAvailable, weightsFile } from '../../helpers/router.ts';

type RouterApp = Awaited<ReturnType<typeof buildRouter>>;

const ACCURACY: Record<string, number> = { blue: 0.6, green: 0.9, canary: 0.5 };

async function setup(t: Parameters<typeof buildRouter>[0]) {
  const names = ['blue', 'green', 'canary'];
  const upstreams = await Promise.all(names.map((n) => tinyUpstream(t, n, { UPSTREAM_LABEL: 'positive' })));
  const file = await weightsFile(t, `environments:\n${names.map((n, i) => `  ${n}: { weight: ${[70, 25, 5][i]}, replicas: [${upstreams[i].url}] }`).join('\n')}\n`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bandit-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const files = { historyFile: path.join(dir, 'history.jsonl'), rolloutsFile: path.join(dir, 'rollouts.json') };
  const app = await buildRouter(t, file, files);
  await untilAllAvailable(app);
  return { app, file, files };
}

const call = async <T>(app: RouterApp, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
  const res = await app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as T };
};
const banditOf = async (app: RouterApp) => (await call<BanditsView>(app, 'GET', '/admin/bandit')).body.bandit;
const weights = async (app: RouterApp) => Object.fromEntries((await call<{ environments: { name: string; weight: number }[] }>(app, 'GET', '/admin/config')).body.environments.map((e) => [e.name, e.weight]));

/** Predictions, each given a true label with its environment's accuracy, until `done` says so. */
async function learn(app: RouterApp, random: Random, done: () => Promise<boolean>, timeoutMs = 60_000) {
  const served: Record<string, number> = {};
  const started = Date.now();
  for (let i = 0; ; i++) {
    if (i % 20 === 0 && (await done())) return served;
    if (Date.now() - started > timeoutMs) throw new Error(`not done within ${timeoutMs} ms (served ${JSON.stringify(served)})`);
    const answer = await app.inject({ method: 'POST', url: '/predict', payload: { text: 'a film' } });
    if (answer.statusCode !== 200) throw new Error(`prediction failed: ${answer.statusCode} ${answer.body}`);
    const environment = String(answer.headers['x-environment']);
    served[environment] = (served[environment] ?? 0) + 1;
    const truth = random.next() < ACCURACY[environment] ? 'positive' : 'negative';
    const fed = await app.inject({ method: 'POST', url: '/feedback', payload: { request_id: String(answer.headers['x-request-id']), label: truth } });
    if (fed.statusCode !== 202) throw new Error(`feedback refused: ${fed.statusCode} ${fed.body}`);
  }
}

t.test('feedback moves the weights to the most accurate arm, each arm kept at its floor, every update explained', async (t) => {
  const { app, files } = await setup(t);
  const started = await call<BanditView>(app, 'POST', '/admin/bandit', { arms: ['blue', 'green', 'canary'], interval_seconds: 1, min_feedback: 20, floor_percent: 5, seed: 7 });
  t.equal(started.status, 201);
  t.equal(started.body.state, 'running');
  t.equal(started.body.share, 100, "the arms' combined weight");
  t.match(started.body.message, /learning: the first update once every arm has 20 labels/);

  const again = await call<{ code: string }>(app, 'POST', '/admin/bandit', { arms: ['blue', 'green'] });
  t.same([again.status, again.body.code], [409, 'ERR_BANDIT_RUNNING'], 'one bandit at a time');
  const rollout = await call<{ code: string; message: string }>(app, 'POST', '/admin/rollouts', { target: 'green' });
  t.same([rollout.status, rollout.body.code], [409, 'ERR_BANDIT_RUNNING'], 'no rollout while a bandit sets the weights');
  t.match(rollout.body.message, /a bandit is setting the weights of blue, green, canary: stop it first/);

  const served = await learn(app, new Random(1), async () => {
    const b = await banditOf(app);
    const w = await weights(app);
    return (b?.updates ?? 0) >= 1 && w.green > w.blue && w.green > w.canary && w.green >= 60;
  });
  const w = await weights(app);
  t.ok(w.green >= 60 && w.blue >= 5 && w.canary >= 5, `green (90% right) leads, the others keep their floor: ${JSON.stringify(w)} after ${JSON.stringify(served)} predictions`);
  const bandit = (await banditOf(app))!;
  t.equal(bandit.last_update?.arms.length, 3);
  const green = bandit.last_update!.arms.find((a) => a.environment === 'green')!;
  t.ok(green.p_best > 0.5 && green.ci95[0] < green.posterior_mean && green.posterior_mean < green.ci95[1], `green: mean ${green.posterior_mean} in [${green.ci95}], P(best) ${green.p_best}`);

  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /router_bandit_p_best\{environment="green"[^}]*\} [\d.]+/, 'each arm\'s chance of being best in the metrics');
  t.match(metrics, /router_bandit_posterior_mean\{environment="blue"[^}]*\} 0\.\d+/);
  t.match(metrics, /router_decisions_total\{kind="bandit",action="update"[^}]*\} [1-9]/);
  const trail = (await call<HistoryEntry[]>(app, 'GET', '/admin/history?kind=bandit')).body;
  const update = trail.find((e) => e.action === 'update');
  t.ok(update?.arms?.every((a) => typeof a.posterior_mean === 'number' && a.ci95.length === 2 && typeof a.p_best === 'number' && typeof a.weight === 'number'), 'each update in the trail with every arm: feedback, posterior mean and interval, P(best), weight');
  t.match(update?.message, /bandit update \d+: blue [\d.]+ \[[\d.]+, [\d.]+\] from \d+ labels, P\(best\) [\d.]+ → [\d.]+/);
  t.ok(trail.some((e) => e.action === 'started'), 'its start too');
  const changes = (await call<HistoryEntry[]>(app, 'GET', '/admin/history?kind=weights')).body.filter((e) => e.action === 'bandit');
  t.ok(changes.length >= 1 && changes.every((e) => e.weights_before && e.weights_after), `${changes.length} weight changes with cause bandit, before and after`);
  t.ok((await fs.readFile(files.historyFile, 'utf8')).includes('"kind":"bandit"'), 'kept in the history file');

  // The guard's veto (here an admin call does what the guard does): the arm leaves for good.
  t.equal((await call(app, 'PUT', '/admin/weights', { weights: { canary: 0 } })).status, 200);
  await until(async () => (await banditOf(app))?.excluded.some((e) => e.environment === 'canary') ?? false, 15_000, 100);
  t.match((await banditOf(app))?.excluded[0].reason, /set to 0 by another change/);
  const excludedAt = (await banditOf(app))!.updated_at;
  await learn(app, new Random(2), async () => ((await banditOf(app))?.last_update?.at ?? '') > excludedAt);
  const after = (await banditOf(app))!;
  t.same(after.last_update?.arms.map((a) => a.environment), ['blue', 'green'], 'the next update shares among the arms left');
  t.equal((await weights(app)).canary, 0, 'the bandit never gives an excluded arm weight again');

  // Rollback wins: the bandit stops and the weights from before it come back.
  const back = await call<{ weights: Record<string, number> }>(app, 'POST', '/admin/rollback');
  t.equal(back.status, 200);
  t.same(await weights(app), { blue: 70, green: 25, canary: 5 }, 'the weights from before the bandit');
  t.equal((await banditOf(app))?.state, 'stopped');
  t.match((await banditOf(app))?.message, /rolled back through the admin API; weights restored/);
  const none = await call<{ code: string }>(app, 'POST', '/admin/bandit/pause');
  t.same([none.status, none.body.code], [404, 'ERR_NO_BANDIT']);
});

t.test('validation names the field; pause holds the weights; a restarted router goes on with the bandit', async (t) => {
  const { app, file, files } = await setup(t);
  const bad = async (body: unknown, pattern: RegExp, why: string) => {
    const res = await call<{ code: string; message: string }>(app, 'POST', '/admin/bandit', body);
    t.equal(res.status, 400, why);
    t.match(res.body.message, pattern, why);
  };
  await bad({ arms: ['blue'] }, /arms/, 'one arm is no bandit');
  await bad({ arms: ['blue', 'purple'] }, /arms: purple not in the weights file/, 'an unknown arm');
  await bad({ arms: ['blue', 'green', 'canary'], floor_percent: 40 }, /floor_percent: 40% for each of 3 arms is over 100%/, 'floors that cannot fit');
  await bad({ arms: ['blue', 'green'], cap_percent: 40 }, /cap_percent: 40% for each of 2 arms is under 100%/, 'caps that cannot fill');
  await bad({ arms: ['blue', 'green'], interval_seconds: 0 }, /interval_seconds/, 'an interval of 0');

  t.equal((await call(app, 'POST', '/admin/bandit', { arms: ['blue', 'green', 'canary'], interval_seconds: 1, min_feedback: 10, seed: 3 })).status, 201);
  await learn(app, new Random(4), async () => ((await banditOf(app))?.updates ?? 0) >= 1);
  t.equal((await call<BanditView>(app, 'POST', '/admin/bandit/pause')).body.state, 'paused');
  const held = await weights(app);
  const updates = (await banditOf(app))!.updates;

  // The same files, a new router: the bandit is there, paused, and resumes.
  await app.close();
  const again = await buildRouter(t, file, files);
  await untilAllAvailable(again);
  const kept = await banditOf(again);
  t.same([kept?.state, kept?.updates], ['paused', updates], 'kept across the restart');
  t.same(await weights(again), held, 'paused: the weights it left');
  t.equal((await call<BanditView>(again, 'POST', '/admin/bandit/resume')).body.state, 'running');
  const resumedAt = (await banditOf(again))!.updated_at;
  await learn(again, new Random(5), async () => ((await banditOf(again))?.last_update?.at ?? '') > resumedAt);
  t.pass('the restarted router learns and updates again');
  t.equal((await call<BanditView>(again, 'POST', '/admin/bandit/stop')).body.state, 'stopped');
  t.equal((await call(again, 'POST', '/admin/rollouts', { target: 'green', pause_seconds: 600 })).status, 201, 'stopped: a rollout may start');
  t.same((await call<{ code: string }>(again, 'POST', '/admin/bandit', { arms: ['blue', 'green'] })).body.code, 'ERR_ROLLOUT_IN_PROGRESS', 'and no bandit while it runs');
});
