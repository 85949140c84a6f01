// The router app against small real HTTP upstreams on ephemeral ports.
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { auth, buildRouter, tinyUpstream, until, untilAllAvailable, weightsFile } from '../../helpers/router.ts';

const yaml = (blue: string, green: string, weights = [70, 30]) => `# routing weights for the test
assignment:
  header: X-User-Id
environments:
  blue:
    weight: ${weights[0]}
    replicas: [${blue}]
  green:
    weight: ${weights[1]}
    replicas: [${green}]
`;

async function setup(t: Parameters<typeof buildRouter>[0], overrides = {}) {
  // Each replica reports its own version; the weights file says only how traffic splits.
  const [blue, green] = await Promise.all([tinyUpstream(t, 'blue', { UPSTREAM_VERSION: '1.0.0' }), tinyUpstream(t, 'green', { UPSTREAM_VERSION: '1.1.0' })]);
  const file = await weightsFile(t, yaml(blue.url, green.url));
  const app = await buildRouter(t, file, overrides);
  await untilAllAvailable(app);
  return { app, file, blue, green };
}

const predict = (app: Awaited<ReturnType<typeof setup>>['app'], headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', ...headers }, payload: '{"text":"good"}' });

t.test('proxies with environment, version and request-id headers; strips hop-by-hop headers', async (t) => {
  const { app } = await setup(t);
  const res = await predict(app, { 'x-request-id': 'req-42', 'x-hop': 'secret', connection: 'x-hop' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['x-environment'], /^(blue|green)$/);
  t.equal(res.headers['x-model-version'], res.headers['x-environment'] === 'blue' ? '1.0.0' : '1.1.0');
  t.equal(res.headers['x-request-id'], 'req-42');
  const body = res.json();
  t.equal(body.upstream, res.headers['x-environment']);
  t.equal(body.request_id, 'req-42', 'the request id reaches the upstream');
  t.equal(body.connection, null, 'a header named in Connection is not forwarded');
  t.match(body.forwarded_for, /127\.0\.0\.1/);
});

t.test('sticky assignment by X-User-Id', async (t) => {
  const { app } = await setup(t);
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const first = (await predict(app, { 'x-user-id': user })).headers['x-environment'];
    for (let i = 0; i < 10; i++) t.equal((await predict(app, { 'x-user-id': user })).headers['x-environment'], first, `${user} stays in ${first}`);
  }
});

t.test('admin API needs the bearer token', async (t) => {
  const { app } = await setup(t);
  for (const url of ['/admin/config', '/admin/replicas', '/admin/stats']) {
    t.equal((await app.inject({ url })).statusCode, 401, `${url} without a token`);
    t.equal((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-wrong-token' } })).statusCode, 401, `${url} with a wrong token`);
    t.equal((await app.inject({ url, headers: auth })).statusCode, 200, `${url} with the token`);
  }
  t.equal((await app.inject({ method: 'PUT', url: '/admin/weights', payload: { weights: { blue: 1 } } })).statusCode, 401);
  const spec = (await app.inject({ url: '/docs/json' })).json();
  t.ok(spec.paths['/admin/weights'].put, 'admin API documented in OpenAPI');
});

t.test('PUT /admin/weights validates, applies and writes the file back atomically', async (t) => {
  const { app, file } = await setup(t);
  const bad = await app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { blue: 0, green: 0 } } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().message, /add up to 0/);
  const unknown = await app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { purple: 5 } } });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json().message, /purple/);
  const negative = await app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { blue: -1 } } });
  t.equal(negative.statusCode, 400);

  const ok = await app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { blue: 0, green: 100 } } });
  t.equal(ok.statusCode, 200);
  t.same(ok.json().environments.map((e: { name: string; share: number }) => [e.name, e.share]), [['blue', 0], ['green', 1]]);
  const onDisk = parse(await fs.readFile(file, 'utf8'));
  t.equal(onDisk.environments.green.weight, 100, 'written back to the weights file');
  t.equal(onDisk.assignment.header, 'X-User-Id', 'the rest of the file is kept');
  t.match(await fs.readFile(file, 'utf8'), /^# routing weights for the test/, 'comments survive the write-back');
  const leftovers = (await fs.readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp'));
  t.same(leftovers, [], 'no temp file left behind');
  for (let i = 0; i < 20; i++) t.equal((await predict(app)).headers['x-environment'], 'green');
});

t.test('hot reload: a valid edit applies; each invalid edit is rejected and the old split kept', async (t) => {
  const { app, file, blue, green } = await setup(t);
  const config = async () => (await app.inject({ url: '/admin/config', headers: auth })).json();

  // Save by rename, as editors do.
  const tmp = `${file}.swp`;
  await fs.writeFile(tmp, yaml(blue.url, green.url, [0, 10]));
  const started = Date.now();
  await fs.rename(tmp, file);
  await until(async () => (await config()).environments[0].weight === 0, 5000, 20);
  t.pass(`a valid edit took effect in ${Date.now() - started} ms`);
  for (let i = 0; i < 10; i++) t.equal((await predict(app)).headers['x-environment'], 'green');

  const invalidEdits: [string, string, RegExp][] = [
    ['bad YAML', 'environments: [unclosed', /YAML/],
    ['negative weight', yaml(blue.url, green.url, [-1, 10]), /\/environments\/blue\/weight/],
    ['unknown field', yaml(blue.url, green.url).replace('weight: 70', 'weight: 70\n    colour: blue'), /\/environments\/blue/],
    ['zero total', yaml(blue.url, green.url, [0, 0]), /add up to 0/],
    ['truncated file', yaml(blue.url, green.url).slice(0, 40), /./],
  ];
  let generation = (await config()).generation;
  for (const [name, text, reason] of invalidEdits) {
    await fs.writeFile(file, text);
    await until(async () => (await config()).last_reload.failure !== null, 5000, 20);
    const c = await config();
    t.equal(c.generation, generation, `${name}: rejected, the last good config stays`);
    t.match(c.last_reload.failure.message, reason, `${name}: the error names the problem (${c.last_reload.failure.path})`);
    t.same(c.environments.map((e: { weight: number }) => e.weight), [0, 10], `${name}: old split kept`);
    t.equal((await predict(app)).headers['x-environment'], 'green', `${name}: traffic unaffected`);
    // Restore a valid file before the next bad edit.
    await fs.writeFile(file, yaml(blue.url, green.url, [0, 10]).replace('header: X-User-Id', `header: X-User-Id # ${name}`));
    await until(async () => (await config()).last_reload.failure === null, 5000, 20);
    generation = (await config()).generation;
  }
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /router_config_reloads_total\{result="failure",service="router"\} 5/);
  t.match(metrics, /router_config_last_reload_success_timestamp_seconds/);
});

t.test('rate limit: 429 with Retry-After on the data path', async (t) => {
  const { app } = await setup(t, { rateLimit: { max: 5, windowMs: 60_000 } });
  const codes = [];
  for (let i = 0; i < 7; i++) codes.push((await predict(app)).statusCode);
  t.same(codes, [200, 200, 200, 200, 200, 429, 429]);
  const limited = await predict(app);
  t.ok(limited.headers['retry-after'], 'Retry-After is set');
  t.equal(limited.json().error, 'too_many_requests');
  t.equal((await app.inject({ url: '/admin/config', headers: auth })).statusCode, 200, 'the admin API is not limited by the data path budget');
});

t.test('API keys: the data path needs X-API-Key when keys are configured', async (t) => {
  const { app } = await setup(t, { apiKeys: { inline: 'key-one,key-two' } });
  t.equal((await predict(app)).statusCode, 401);
  t.equal((await predict(app, { 'x-api-key': 'nope' })).statusCode, 401);
  t.equal((await predict(app, { 'x-api-key': 'key-two' })).statusCode, 200);
});

t.test('X-Route-To forces an environment only for admins', async (t) => {
  const { app } = await setup(t);
  t.equal((await predict(app, { 'x-route-to': 'green' })).statusCode, 403);
  for (let i = 0; i < 5; i++) t.equal((await predict(app, { 'x-route-to': 'green', ...auth })).headers['x-environment'], 'green');
  t.equal((await predict(app, { 'x-route-to': 'purple', ...auth })).statusCode, 400);
});

t.test('metrics carry the seed names', async (t) => {
  const { app } = await setup(t);
  await predict(app);
  const m = (await app.inject({ url: '/metrics' })).body;
  t.match(m, /sentiment_api_requests_total\{backend="(blue|green)",model_version="1\.[01]\.0",status="200",protocol="http",service="router"\} 1/);
  t.match(m, /sentiment_api_latency_seconds_bucket/);
  t.match(m, /router_replica_healthy\{environment="blue"/);
  await predict(app, { 'x-route-to': 'blue', ...auth });
  const stats = (await app.inject({ url: '/admin/stats?window=10', headers: auth })).json();
  const env = stats.environments.blue;
  t.ok(env.requests >= 1, 'blue served requests in the window');
  t.type(env.p99_ms, 'number');
  t.equal(env.mean_confidence, 0.75, 'mean confidence read from the responses');
});

t.test('client mistakes on the router: body over the limit is 413, an unknown route 404, both JSON', async (t) => {
  const { app } = await setup(t, { bodyLimit: 2048 });
  const big = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'a'.repeat(5000) }) });
  t.equal(big.statusCode, 413);
  t.same(Object.keys(big.json()).sort(), ['code', 'error', 'message']);
  const unknown = await app.inject({ method: 'POST', url: '/predict/everything' });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().error, 'not_found');
});
