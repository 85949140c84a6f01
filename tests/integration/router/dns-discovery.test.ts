// DNS discovery against a real DNS server (Debian's dnsmasq on a loopback port) whose records
// change during the test: replicas are added and removed as the name's A records change, with no
// failed request while one goes away; a DNS outage keeps the replicas last found; a name with no
// records empties the environment.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { auth, buildRouter, replicas, tinyUpstream, until, weightsFile } from '../../helpers/router.ts';

const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));
const NAME = 'green.sentiment.test';

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** dnsmasq answering for *.test from a hosts file only (NXDOMAIN for names it does not list). */
async function startDns(t: Test, dir: string, port: number): Promise<ChildProcess> {
  const proc = spawn(DNSMASQ!, [
    '--keep-in-foreground', '--log-facility=-', '--log-queries', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${path.join(dir, 'hosts')}`, '--local=/test/', `--pid-file=${path.join(dir, 'dnsmasq.pid')}`, `--user=${os.userInfo().username}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  t.teardown(() => proc.kill('SIGKILL'));
  await until(() => /started, version/.test(output) || proc.exitCode !== null, 10_000);
  if (proc.exitCode !== null) throw new Error(`dnsmasq exited: ${output}`);
  return proc;
}

t.test('replicas follow the DNS records', { skip: DNSMASQ ? false : 'dnsmasq is not installed (apt-get install dnsmasq-base)' }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dns-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const hosts = (...ips: string[]) => fs.writeFile(path.join(dir, 'hosts'), ips.map((ip) => `${ip} ${NAME}\n`).join(''));

  // Two replicas on one port, as pods behind a headless Service: 127.0.0.2 and 127.0.0.3.
  const first = await tinyUpstream(t, 'pod-a', { HOST: '127.0.0.2' });
  const port = new URL(first.url).port;
  const second = await tinyUpstream(t, 'pod-b', { HOST: '127.0.0.3', PORT: port });
  t.equal(new URL(second.url).port, port);

  await hosts('127.0.0.2');
  const dnsPort = await freeUdpPort();
  let dns = await startDns(t, dir, dnsPort);

  const file = await weightsFile(t, `environments:\n  green:\n    weight: 1\n    discovery: { dns: ${NAME}, port: ${port}, interval_seconds: 0.2 }\n`);
  const app = await buildRouter(t, file, { discovery: { servers: [`127.0.0.1:${dnsPort}`], timeoutMs: 500 } });
  const predict = () => app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: { text: 'fine' } });
  const upstreamOf = async () => {
    const res = await predict();
    return res.statusCode === 200 ? (res.json().upstream as string) : `status ${res.statusCode}`;
  };
  const urls = async () => (await replicas(app)).filter((r) => r.available).map((r) => r.url).sort();

  await until(async () => (await urls()).join() === `http://127.0.0.2:${port}`, 15_000);
  t.equal(await upstreamOf(), 'pod-a', 'the one replica the name resolves to takes traffic');

  await hosts('127.0.0.2', '127.0.0.3');
  dns.kill('SIGHUP'); // dnsmasq re-reads its hosts file
  await until(async () => (await urls()).length === 2, 15_000);
  t.same(await urls(), [`http://127.0.0.2:${port}`, `http://127.0.0.3:${port}`], 'a new record is a new replica');
  const seen = new Set<string>();
  await until(async () => (seen.add(await upstreamOf()), seen.has('pod-a') && seen.has('pod-b')), 15_000);
  t.pass('both replicas take traffic');

  // A replica leaves the records while requests are flowing: none of them fails.
  const failures: number[] = [];
  let sent = 0;
  let flowing = true;
  const load = Promise.all(Array.from({ length: 8 }, async () => {
    while (flowing && sent < 20_000) {
      sent++;
      const res = await predict();
      if (res.statusCode !== 200) failures.push(res.statusCode);
    }
  }));
  await hosts('127.0.0.3');
  dns.kill('SIGHUP');
  await until(async () => (await replicas(app)).length === 1, 15_000);
  const after = sent;
  await until(() => sent > after + 200, 15_000);
  flowing = false;
  await load;
  t.same(failures, [], `no failed request while a replica left (${sent} sent)`);
  t.same(await urls(), [`http://127.0.0.3:${port}`]);

  // DNS goes away: lookups fail, and the replicas last found stay.
  dns.kill('SIGKILL');
  await until(async () => /router_discovery_lookups_total\{[^}]*result="failed"[^}]*\} [1-9]/.test((await app.inject({ url: '/metrics' })).body), 15_000);
  t.same(await urls(), [`http://127.0.0.3:${port}`], 'a failed lookup keeps the replicas');
  t.equal(await upstreamOf(), 'pod-b', 'and traffic goes on');

  // DNS back without the name: NXDOMAIN empties the environment.
  await hosts();
  dns = await startDns(t, dir, dnsPort);
  await until(async () => (await replicas(app)).length === 0, 15_000);
  t.pass('a name with no records means no replicas');
  t.equal((await predict()).statusCode, 503, 'and the environment has nothing to serve with');
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /router_discovery_lookups_total\{[^}]*result="empty"/, 'each outcome is counted');

  // The weights file is hot-reloaded: a name given, then taken away.
  await hosts('127.0.0.3');
  dns.kill('SIGHUP');
  await until(async () => (await urls()).length === 1, 15_000);
  await fs.writeFile(file, 'environments:\n  green: { weight: 1 }\n');
  await until(async () => (await replicas(app)).length === 0, 15_000);
  t.pass('dropping discovery from the weights file drops its replicas');
  const sources = (await app.inject({ url: '/admin/replicas', headers: auth })).json();
  t.same(sources, []);
});

t.test('discovery in the weights file is validated, naming the field', async (t) => {
  const { parseWeights } = await import('../../../router/index.ts');
  t.throws(() => parseWeights('environments:\n  green: { weight: 1, discovery: { dns: "bad name!", port: 8000 } }\n'), /\/environments\/green\/discovery\/dns/);
  t.throws(() => parseWeights('environments:\n  green: { weight: 1, discovery: { dns: green.svc, port: 0 } }\n'), /\/environments\/green\/discovery\/port/);
  t.throws(() => parseWeights('environments:\n  green: { weight: 1, discovery: { dns: green.svc } }\n'), /port/);
  t.ok(parseWeights('environments:\n  green: { weight: 1, discovery: { dns: sentiment-green.sentiment.svc.cluster.local, port: 8000 } }\n'));
});
