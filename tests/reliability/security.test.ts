// Security of a running router, as an attacker would try it: admin calls without or with a wrong
// token, X-Route-To from an ordinary caller, request smuggling (Content-Length with
// Transfer-Encoding), hop-by-hop and credential headers sent on to replicas, path traversal in
// model names, the rate limit per API key under load, and secrets in the logs.
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { ROOT, startProcess } from '../../testkit/processes.ts';
import { until, weightsFile } from '../helpers/router.ts';
import { record } from './harness.ts';

const ADMIN_TOKEN = 'security-admin-token-0123456789';
const READ_TOKEN = 'security-read-token-0123456789';
const KEYS = ['client-key-alpha-0123456789', 'client-key-bravo-0123456789'];
const WRONG = 'wrong-token-attempt-0123456789';
const METRICS_TOKEN = 'security-metrics-token-0123456789';
const LIMIT = 40;

/** A replica that answers with the headers it received, to see what the router sends on. */
async function echoReplica(t: Test): Promise<{ url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/health/ready') return res.end('{"status":"ok"}');
    if (req.url === '/info') return res.end('{"name":"sentiment","version":"1.0.0"}');
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"sentiment":"positive","confidence":0.9}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, seen };
}

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.setTimeout(5000, () => s.destroy());
  });
}


t.test('a router under attack', async (t) => {
  const replica = await echoReplica(t);
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${replica.url}] }\n  green: { weight: 0 }\n`);
  const router = await startProcess(
    { ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: ADMIN_TOKEN, ROUTER_READ_TOKEN: READ_TOKEN, ROUTER_METRICS_TOKEN: METRICS_TOKEN, ROUTER_API_KEYS: KEYS.join(','), ROUTER_RATE_LIMIT_MAX: String(LIMIT), ROUTER_RATE_LIMIT_WINDOW_MS: '60000', ROUTER_REPLICA_MAX_IN_FLIGHT: '0', ROUTER_PORT: '0', ROUTER_LOG_LEVEL: 'debug', ROUTER_HEALTH_INTERVAL_MS: '100' },
    path.join(ROOT, 'router/src/server.ts'),
  );
  t.teardown(() => router.stop('SIGKILL'));
  const port = Number(new URL(router.url).port);
  const predict = (headers: Record<string, string>) => request(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"text":"fine"}' });
  await until(async () => (await predict({ 'x-api-key': KEYS[0] })).statusCode === 200, 15_000);
  const checks: string[] = [];

  for (const [name, headers, status] of [
    ['no token', {}, 401],
    ['a wrong token', { authorization: `Bearer ${WRONG}` }, 401],
    ['a wrong Basic password', { authorization: `Basic ${Buffer.from(`admin:${WRONG}`).toString('base64')}` }, 401],
    ['the read-only token', { authorization: `Bearer ${READ_TOKEN}` }, 403],
    ['the admin token', { authorization: `Bearer ${ADMIN_TOKEN}` }, 200],
  ] as const) {
    const res = await request(`${router.url}/admin/weights`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: '{"weights":{"blue":1}}' });
    await res.body.dump();
    t.equal(res.statusCode, status, `PUT /admin/weights with ${name}: ${status}`);
  }
  checks.push('admin: 401 without or with a wrong token, 403 read-only');

  const forced = await predict({ 'x-api-key': KEYS[0], 'x-route-to': 'green' });
  t.equal(forced.statusCode, 403, 'X-Route-To from an ordinary caller is refused');
  t.equal(((await forced.body.json()) as { code: string }).code, 'ERR_ROUTE_OVERRIDE_FORBIDDEN', 'with its code');
  const noKey = await predict({});
  t.equal(noKey.statusCode, 401, 'no API key, no prediction');
  await noKey.body.dump();
  checks.push('X-Route-To 403; no API key 401');

  const smuggled = await raw(port, 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/config HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(smuggled, /^HTTP\/1\.1 400/, 'Content-Length with Transfer-Encoding is refused (request smuggling)');
  t.notMatch(smuggled, /HTTP\/1\.1 (200|401)/, 'and the smuggled request behind it is never answered');
  checks.push('CL+TE refused with 400');

  replica.seen.length = 0;
  // node:http, since undici refuses to send some of these headers at all.
  const hop = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${router.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS[0], connection: 'keep-alive, x-private', 'x-private': 'secret', 'keep-alive': 'timeout=5', 'proxy-authorization': 'Basic eDp5', te: 'trailers', authorization: `Bearer ${ADMIN_TOKEN}` },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{"text":"fine"}');
  });
  t.equal(hop, 200, 'the request with hop-by-hop headers is served');
  const sent = replica.seen[0];
  for (const h of ['x-private', 'keep-alive', 'proxy-authorization', 'te', 'authorization', 'x-api-key']) t.notOk(h in sent, `${h} is not sent on to the replica`);
  t.ok(sent['x-request-id'] && sent['x-forwarded-for'], 'the forwarding headers are');
  checks.push('hop-by-hop and credential headers stay at the router');

  for (const name of ['..%2F..%2Fetc%2Fpasswd', '..', '%2e%2e', 'a%00b']) {
    const res = await request(`${router.url}/v2/models/${name}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEYS[0] }, body: '{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["x"]}]}' });
    await res.body.dump();
    t.ok(res.statusCode < 500, `model name ${name}: ${res.statusCode}, never a 5xx or a file`);
  }
  checks.push('traversal in model names never a 5xx');

  // The rate limit holds per API key under concurrent load: each key gets its LIMIT, no more.
  const counts = await Promise.all(
    KEYS.map(async (key) => {
      const statuses = await Promise.all(Array.from({ length: LIMIT * 2 }, async () => {
        const res = await predict({ 'x-api-key': key });
        await res.body.dump();
        return res.statusCode;
      }));
      return { ok: statuses.filter((s) => s === 200).length, limited: statuses.filter((s) => s === 429).length };
    }),
  );
  // The first key spent 2 requests above (the readiness wait may have spent more); the second none.
  t.ok(counts[0].ok <= LIMIT && counts[0].limited >= LIMIT, `key 1: ${counts[0].ok} served, ${counts[0].limited} limited`);
  t.equal(counts[1].ok, LIMIT, `key 2: exactly ${LIMIT} served`);
  t.equal(counts[1].limited, LIMIT, `key 2: the other ${LIMIT} limited (429)`);
  checks.push(`rate limit ${LIMIT}/min per key held under ${LIMIT * 2} concurrent requests per key`);

  const closed = await request(`${router.url}/metrics`);
  await closed.body.dump();
  t.equal(closed.statusCode, 401, 'with ROUTER_METRICS_TOKEN set, /metrics needs it');
  const open = await request(`${router.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  t.match(await open.body.text(), /router_requests_total|sentiment_api_requests_total/, 'and answers with it');
  const dashboard = await request(`${router.url}/dashboard`);
  await dashboard.body.dump();
  t.equal(dashboard.statusCode, 401, '/dashboard needs the admin or read-only token');
  checks.push('/metrics behind ROUTER_METRICS_TOKEN, /dashboard behind the tokens');

  const logs = router.output();
  for (const secret of [ADMIN_TOKEN, READ_TOKEN, METRICS_TOKEN, WRONG, ...KEYS]) t.notOk(logs.includes(secret), `${secret.slice(0, 12)}… never appears in the logs (debug level)`);
  checks.push('no token or key in the debug-level logs');
  await record({ scenario: 'Security', what: 'admin without/with wrong tokens, X-Route-To, request smuggling, hop-by-hop and credential headers, traversal in model names, rate limit per API key under load, secrets in logs', sent: 0, failed: 0, failures: {}, p99_ms: null, worst_ms: null, recovery: checks.join('; ') });
});
