// The model registry through the admin API: stages and their moves, one production per model (the
// one replaced archived), the release slot (one at a time, resumed by the same bundle, ended by a
// final state), every move in the trail, and the file that keeps it across a restart. Shared
// through Redis, two routers see one registry.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startRedis } from '../../../testkit/redis.ts';
import { auth, buildRouter, weightsFile } from '../../helpers/router.ts';

const WEIGHTS = 'environments:\n  blue: { weight: 1 }\n  canary: { weight: 0 }\n';
const digest = (c: string) => c.repeat(64);
const bundle = (version: string) => ({ name: 'sentiment', version, path: `/m/sentiment/${version}`, size_bytes: 1, architecture: null, description: null, training_date: null, metrics: {}, lineage: null, integrity: { manifest: true, signed: false }, running_in: [] });
const report = { models_dir: '/m', reported_at: new Date().toISOString(), models: ['1.0.0', '1.1.0', '4.0.0'].map(bundle) };

type App = Awaited<ReturnType<typeof buildRouter>>;
const put = (app: App, url: string, payload: unknown) => app.inject({ method: 'PUT', url, headers: auth, payload: payload as object });
const post = (app: App, url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: auth, payload: payload as object });
const get = (app: App, url: string) => app.inject({ url, headers: auth });
const stageOf = async (app: App, version: string) => (await get(app, '/admin/models')).json().models.find((m: { version: string }) => m.version === version).stage;

t.test('stages: a version never moved is a candidate; production holds one version, the one replaced archived; each move in the trail', async (t) => {
  const app = await buildRouter(t, await weightsFile(t, WEIGHTS));
  t.equal((await get(app, '/admin/models')).json().code, 'ERR_NO_CONTROLLER_REPORT', 'no controller, no bundles to show');
  t.same((await get(app, '/admin/models/stages')).json(), { stages: [] }, 'the stages answer without a controller');
  t.equal((await put(app, '/admin/models', report)).statusCode, 204);
  t.equal(await stageOf(app, '1.1.0'), 'candidate');

  const first = await put(app, '/admin/models/sentiment/1.1.0/stage', { stage: 'production', reason: 'serves blue', by: 'a person' });
  t.equal(first.statusCode, 200);
  t.same(first.json().changed.map((c: { version: string; stage: string }) => [c.version, c.stage]), [['1.1.0', 'production']]);
  t.same((await put(app, '/admin/models/sentiment/1.1.0/stage', { stage: 'production' })).json().changed, [], 'already there: nothing changes');

  const second = (await put(app, '/admin/models/sentiment/4.0.0/stage', { stage: 'production', reason: 'passed its release', release_id: 'r-1' })).json();
  t.same(second.changed.map((c: { version: string; stage: string }) => [c.version, c.stage]).sort(), [['1.1.0', 'archived'], ['4.0.0', 'production']]);
  const models = (await get(app, '/admin/models')).json();
  t.equal(models.registry_error, null);
  const old = models.models.find((m: { version: string }) => m.version === '1.1.0');
  t.equal(old.stage, 'archived');
  t.same(old.moves.map((m: { from: string | null; to: string; by: string }) => [m.from, m.to, m.by]), [[null, 'production', 'a person'], ['production', 'archived', 'admin API']]);
  t.match(old.moves[1].reason, /replaced in production by 4\.0\.0/);

  const trail = (await get(app, '/admin/history?kind=stage')).json();
  t.equal(trail.length, 3);
  t.match(trail[0], { kind: 'stage', model: 'sentiment', release_id: 'r-1' });
  t.ok(trail.some((e: { message: string }) => /sentiment 1\.1\.0: production → archived/.test(e.message)));

  const unknown = await put(app, '/admin/models/sentiment/9.9.9/stage', { stage: 'staging' });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'ERR_MODEL_VERSION_NOT_FOUND');
  t.match(unknown.json().message, /known: sentiment 1\.0\.0, sentiment 1\.1\.0, sentiment 4\.0\.0/);
  const bad = await put(app, '/admin/models/sentiment/1.0.0/stage', { stage: 'live' });
  t.equal(bad.statusCode, 400, 'an unknown stage is a 400 naming the field');
  t.match(bad.json().message, /stage/);
});

t.test('the release slot: one at a time, the same bundle resumes, a final state ends it, kept in the file across a restart', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'registry-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'registry.json');
  const weights = await weightsFile(t, WEIGHTS);
  const app = await buildRouter(t, weights, { registryFile: file });
  const start = { model: 'sentiment', version: '4.0.0', digest: digest('a'), environment: 'canary', holder: 'host pid 1' };
  const claimed = await post(app, '/admin/releases', start);
  t.equal(claimed.statusCode, 201);
  const id = claimed.json().release.id;
  t.match(claimed.json(), { resumed: false, release: { state: 'running', steps: [], environment: 'canary' } });

  const other = await post(app, '/admin/releases', { ...start, version: '1.2.0' });
  t.equal(other.statusCode, 409);
  t.equal(other.json().code, 'ERR_RELEASE_RUNNING');
  t.match(other.json().message, new RegExp(`release ${id} \\(sentiment 4\\.0\\.0, held by host pid 1\\)`));
  t.equal((await post(app, '/admin/releases', { ...start, digest: digest('b') })).statusCode, 409, 'the same version with other files is another release');

  const step = { name: 'offline_gates', state: 'passed', started_at: '2026-12-06T00:00:00.000Z', finished_at: '2026-12-06T00:00:01.000Z', summary: '7 gates passed' };
  t.equal((await put(app, '/admin/releases/current', { id, steps: [step], facts: { production_version: '1.1.0' } })).statusCode, 200);
  await app.close();

  // Restarted: the release is there, and the same bundle resumes it.
  const again = await buildRouter(t, weights, { registryFile: file });
  const resumed = await post(again, '/admin/releases', { ...start, holder: 'host pid 2', environment: 'blue' });
  t.equal(resumed.statusCode, 200);
  t.match(resumed.json(), { resumed: true, release: { id, holder: 'host pid 2', environment: 'canary', facts: { production_version: '1.1.0' } } });
  t.same(resumed.json().release.steps.map((s: { name: string }) => s.name), ['offline_gates']);

  t.equal((await put(again, '/admin/releases/current', { id: 'another', state: 'promoted' })).json().code, 'ERR_RELEASE_NOT_CURRENT');
  const ended = await put(again, '/admin/releases/current', { id, state: 'promoted', outcome: 'sentiment 4.0.0 promoted' });
  t.equal(ended.json().state, 'promoted');
  t.match((await get(again, '/admin/releases')).json(), { current: null, last: { id, state: 'promoted' } });
  t.equal((await post(again, '/admin/releases', { ...start, version: '1.2.0' })).statusCode, 201, 'the slot is free again');
  const trail = (await get(again, '/admin/history?kind=release')).json().map((e: { action: string }) => e.action);
  t.ok(trail.includes('promoted') && trail.includes('resumed') && trail.includes('started'), trail.join(', '));
});

t.test('two routers on one Redis share the registry and its release slot', async (t) => {
  const redis = await startRedis().catch(() => null);
  if (!redis) return t.plan(0, 'redis-server is not installed');
  t.teardown(() => redis.stop());
  const weights = await weightsFile(t, WEIGHTS);
  const stateStore = { url: redis.url, prefix: 'registry-test:' };
  const [a, b] = [await buildRouter(t, weights, { stateStore: { ...stateStore, routerId: 'a' } }), await buildRouter(t, weights, { stateStore: { ...stateStore, routerId: 'b' } })];
  for (const app of [a, b]) await put(app, '/admin/models', report);
  await put(a, '/admin/models/sentiment/1.1.0/stage', { stage: 'production' });
  await put(b, '/admin/models/sentiment/4.0.0/stage', { stage: 'production' });
  t.equal(await stageOf(a, '1.1.0'), 'archived', 'a move made through b is seen by a');
  t.equal(await stageOf(a, '4.0.0'), 'production');
  t.equal((await post(a, '/admin/releases', { model: 'sentiment', version: '1.2.0', digest: digest('c'), environment: 'blue', holder: 'h pid 1' })).statusCode, 201);
  t.equal((await post(b, '/admin/releases', { model: 'sentiment', version: '1.0.0', digest: digest('d'), environment: 'blue', holder: 'h pid 2' })).json().code, 'ERR_RELEASE_RUNNING');
  // Both change at once: each is computed again on the other's, none lost.
  await Promise.all([put(a, '/admin/models/sentiment/1.0.0/stage', { stage: 'archived' }), put(b, '/admin/models/sentiment/1.1.0/stage', { stage: 'staging' })]);
  t.equal(await stageOf(b, '1.0.0'), 'archived');
  t.equal(await stageOf(a, '1.1.0'), 'staging');
});
