// Shadow traffic: a mirrored environment gets copies of /predict requests after the primary has
// answered; its answers never reach clients, and are compared and reported; past the bound on
// mirrors in flight, they are dropped and counted.
import t from 'tap';
import type { ExperimentReport } from '../../../router/src/experiments/schema.ts';
import { auth, buildRouter, tinyUpstream, until, untilAllAvailable, weightsFile } from '../../helpers/router.ts';

async function setup(t: Parameters<typeof buildRouter>[0], shadowMaxInFlight: number) {
  const [blue, canary] = await Promise.all([tinyUpstream(t, 'blue', { UPSTREAM_VERSION: '1.0.0' }), tinyUpstream(t, 'canary', { UPSTREAM_VERSION: '2.0.0' })]);
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${blue.url}] }\n  canary: { weight: 0, shadow: 100, replicas: [${canary.url}] }\n`);
  const app = await buildRouter(t, file, { shadowMaxInFlight });
  await untilAllAvailable(app);
  return app;
}
const predict = (app: Awaited<ReturnType<typeof setup>>) =>
  app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{"text":"a fine film"}' });
const shadows = async (app: Awaited<ReturnType<typeof setup>>) => ((await app.inject({ url: '/admin/experiments/report', headers: auth })).json() as ExperimentReport).shadows;

t.test('every /predict is mirrored to the shadow, compared, and only the primary answers clients', async (t) => {
  const app = await setup(t, 64);
  const answers = await Promise.all(Array.from({ length: 40 }, () => predict(app)));
  t.ok(answers.every((a) => a.statusCode === 200 && a.headers['x-environment'] === 'blue'), 'every client answer comes from blue');
  await until(async () => (await shadows(app))[0]?.compared === 40);
  const [row] = await shadows(app);
  t.equal(row.environment, 'canary');
  t.equal(row.model_version, '2.0.0', 'the version that answered the mirror');
  t.equal(row.failed + row.dropped, 0);
  t.equal(row.mean_confidence_delta, 0, 'the same confidence on both sides (the fixture answers 0.75)');
  t.type(row.mean_latency_delta_ms, 'number');
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /router_shadow_requests_total\{environment="canary",result="compared",service="router"\} 40/);
  t.notMatch(metrics, /sentiment_api_requests_total\{backend="canary"/, "the shadow's answers are not counted as the seed's requests");
});

t.test('a new version in the shadow environment is tallied apart: its failures are its own, from nothing', async (t) => {
  const [blue, canary, broken] = await Promise.all([
    tinyUpstream(t, 'blue', { UPSTREAM_VERSION: '1.0.0' }),
    tinyUpstream(t, 'canary', { UPSTREAM_VERSION: '2.0.0' }),
    tinyUpstream(t, 'broken', { UPSTREAM_VERSION: '3.0.0', UPSTREAM_FAIL_RATE: '1' }),
  ]);
  const yaml = (url: string) => `environments:\n  blue: { weight: 1, replicas: [${blue.url}] }\n  canary: { weight: 0, shadow: 100, replicas: [${url}] }\n`;
  const file = await weightsFile(t, yaml(canary.url));
  const app = await buildRouter(t, file, { shadowMaxInFlight: 64 });
  await untilAllAvailable(app);
  await Promise.all(Array.from({ length: 20 }, () => predict(app)));
  await until(async () => (await shadows(app)).find((s) => s.model_version === '2.0.0')?.compared === 20, 30_000);
  await (await import('node:fs/promises')).writeFile(file, yaml(broken.url));
  const versions = async () => (await app.inject({ url: '/admin/config', headers: auth })).json().environments.find((e: { name: string }) => e.name === 'canary').model_versions;
  await until(async () => JSON.stringify(await versions()) === '["3.0.0"]', 30_000);
  const answers = await Promise.all(Array.from({ length: 10 }, () => predict(app)));
  t.ok(answers.every((a) => a.statusCode === 200), 'clients never see the shadow fail');
  await until(async () => (await shadows(app)).find((s) => s.model_version === '3.0.0')?.failed === 10, 30_000);
  const rows = Object.fromEntries((await shadows(app)).map((s) => [s.model_version, s]));
  t.same([rows['3.0.0'].compared, rows['3.0.0'].failed], [0, 10], '3.0.0: every mirror failed');
  t.same([rows['2.0.0'].compared, rows['2.0.0'].failed], [20, 0], '2.0.0 keeps its own figures');
});

t.test('mirrors beyond the bound are dropped and counted, and the primary is unaffected', async (t) => {
  const app = await setup(t, 0);
  const answers = await Promise.all(Array.from({ length: 10 }, () => predict(app)));
  t.ok(answers.every((a) => a.statusCode === 200));
  await until(async () => (await shadows(app))[0]?.dropped === 10);
  const [row] = await shadows(app);
  t.equal(row.dropped, 10);
  t.equal(row.compared, 0);
});

t.test('PUT /admin/weights starts and stops a shadow, written to the weights file and shown in GET /admin/config', async (t) => {
  const [blue, canary] = await Promise.all([tinyUpstream(t, 'blue', { UPSTREAM_VERSION: '1.0.0' }), tinyUpstream(t, 'canary', { UPSTREAM_VERSION: '2.0.0' })]);
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${blue.url}] }\n  canary: { weight: 0, replicas: [${canary.url}] }\n`);
  const app = await buildRouter(t, file);
  await untilAllAvailable(app);
  const set = (shadow: number) => app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { canary: 0 }, shadow: { canary: shadow } } });
  const on = await set(100);
  t.equal(on.statusCode, 200);
  t.equal(on.json().environments.find((e: { name: string }) => e.name === 'canary').shadow, 100);
  t.match(await import('node:fs/promises').then((fs) => fs.readFile(file, 'utf8')), /shadow: 100/, 'kept in the file');
  await Promise.all(Array.from({ length: 10 }, () => predict(app)));
  await until(async () => (await shadows(app))[0]?.compared === 10);
  const off = await set(0);
  t.equal(off.json().environments.find((e: { name: string }) => e.name === 'canary').shadow, 0);
  await Promise.all(Array.from({ length: 10 }, () => predict(app)));
  t.equal((await shadows(app))[0].compared, 10, 'no mirror once it is 0');
  const bad = await app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { canary: 0 }, shadow: { canary: 101 } } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().message, /shadow/);
});
