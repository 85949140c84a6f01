// npm start with router.instances: 2: two routers in front of the same replicas, sharing a
// redis-server the launcher starts itself; the banner names both; one of them leads; feedback sent to one for a
// prediction the other answered is recorded; SIGTERM stops routers, replicas and the store.
import t from 'tap';
import { request } from 'undici';
import { childPids } from '../../testkit/processes.ts';
import { REDIS_SERVER } from '../../testkit/redis.ts';
import { adminHeaders, isAlive, startLauncher } from '../helpers/launcher.ts';
import { until } from '../helpers/router.ts';

const post = async (url: string, body: unknown) => {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
};

t.test('two routers, one store: both serve, feedback crosses, all stop together', { skip: REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server)' }, async (t) => {
  const launcher = await startLauncher(t, { environments: { blue: { version: '1.0.0', replicas: 1 } }, weights: { blue: 1 }, routerYaml: 'instances: 2' });
  const output = launcher.output();
  t.match(output, /Routers +2, sharing weights, rollouts, decisions, rate limits and feedback through redis-server at redis:\/\/127\.0\.0\.1:\d+/, 'the banner says how many routers and what they share');
  const urls = [...(/API +(.+?) +\(POST/.exec(output)?.[1] ?? '').matchAll(/(http:\/\/127\.0\.0\.1:\d+)\/predict/g)].map((m) => m[1]);
  t.equal(urls.length, 2, `the banner names each router's /predict (${urls.join(', ')})`);

  for (const url of urls) {
    const replicas = (await (await request(`${url}/admin/replicas`, { headers: adminHeaders })).body.json()) as { available: boolean }[];
    t.equal(replicas.filter((r) => r.available).length, 1, `${url}: routes to the replica`);
  }
  const controllers = await Promise.all(urls.map(async (url) => ((await (await request(`${url}/admin/config`, { headers: adminHeaders })).body.json()) as { controller: { leader: string; routers: string[] } }).controller));
  t.ok(controllers.every((c) => ['router-1', 'router-2'].includes(c.leader) && c.leader === controllers[0].leader), `one controller for both: ${controllers[0].leader}`);
  await until(async () => ((await (await request(`${urls[1]}/admin/config`, { headers: adminHeaders })).body.json()) as { controller: { routers: string[] } }).controller.routers.length === 2);
  t.pass('each router knows the other');
  const answer = await post(`${urls[0]}/predict`, { text: 'a gripping , beautifully acted film' });
  t.equal(answer.status, 200);
  const fed = await post(`${urls[1]}/feedback`, { request_id: answer.headers['x-request-id'], label: 'positive' });
  t.equal(fed.status, 202, 'feedback at router 2 for what router 1 answered');

  const descendants = childPids(launcher.proc.pid!);
  t.ok(descendants.length >= 4, `routers, replica and redis-server run under the launcher (${descendants.length} processes)`);
  launcher.proc.kill('SIGTERM');
  await until(() => launcher.proc.exitCode !== null, 60_000, 100);
  t.equal(launcher.proc.exitCode, 0);
  await until(() => descendants.every((pid) => !isAlive(pid)), 10_000, 100);
  t.pass('no process left behind, the store included');
});
