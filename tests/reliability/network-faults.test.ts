// A replica on a host of its own (a network namespace this test makes, joined to this one by a
// veth pair) whose link is cut under load: connections to it black-hole, as when a node drops off
// the network. Timeouts, hedging and ejection keep every prediction answered; when the link is
// back, so is the replica. Skipped, saying why, where the machine forbids namespaces.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { ROOT } from '../../testkit/processes.ts';
import { nodeArgs } from '../../testkit/entry.ts';
import { until } from '../helpers/router.ts';
import { CONCURRENCY, closedLoad, counter, keepLoading, record, replicaStates, startTopology, summary, timeUntil } from './harness.ts';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);
const ns = `rel${process.pid % 100_000}`;
const net = `10.231.${process.pid % 250}`;
const [hostSide, nsSide] = [`${ns}h`, `${ns}n`];

async function makeHost(): Promise<string | null> {
  try {
    await ip('netns', 'add', ns);
  } catch (err) {
    return `network namespaces are not allowed here (${(err as { stderr?: string }).stderr?.trim() ?? (err as Error).message})`;
  }
  await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
  await ip('link', 'set', nsSide, 'netns', ns);
  await ip('addr', 'add', `${net}.1/30`, 'dev', hostSide);
  await ip('link', 'set', hostSide, 'up');
  await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', nsSide);
  await ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');
  await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  return null;
}

async function removeHost(): Promise<void> {
  const pids = await ip('netns', 'pids', ns).then((r) => r.stdout.split('\n').filter(Boolean), () => []);
  for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
  await ip('netns', 'del', ns).catch(() => {});
  await ip('link', 'del', hostSide).catch(() => {});
}

t.test('a link to a replica cut under load', async (t) => {
  const refused = await makeHost();
  if (refused) return t.plan(0, refused);
  t.teardown(removeHost);

  // The replica on the other host, as the service runs anywhere: HOST is that host's address.
  const bundle = await tempFixtureBundle();
  const remote = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeArgs(path.join(ROOT, 'services/inference/src/server.ts'))], {
    cwd: ROOT,
    env: { ...process.env, MODEL_DIR: bundle, INFERENCE_WORKERS: '0', HOST: `${net}.2`, PORT: '8000', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  remote.stdout.on('data', (d) => (output += d));
  remote.stderr.on('data', (d) => (output += d));
  await until(() => output.includes('Server listening') || remote.exitCode !== null, 60_000);
  t.match(output, new RegExp(`listening at http://${net.replaceAll('.', '\\.')}\\.2:8000`), 'the replica listens on its own host');
  const remoteUrl = `http://${net}.2:8000`;

  const topo = await startTopology(t, { blue: 2 }, {
    through: async (_env, index, url) => (index === 0 ? remoteUrl : url),
    routerEnv: { ROUTER_REPLICA_CONNECT_TIMEOUT_MS: '300', ROUTER_HEALTH_TIMEOUT_MS: '300' },
  });
  t.ok((await replicaStates(topo.router.url)).some((r) => r.url === remoteUrl && r.available), 'the remote replica takes traffic');

  const load = closedLoad(topo.router.url, { maxMs: 180_000 });
  t.teardown(() => load.stop());
  await keepLoading(load, 500, 10);
  await ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'down');
  const ejected = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === remoteUrl && !r.available));
  await keepLoading(load, 1000, 20);
  await ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');
  const back = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === remoteUrl && r.available), 60_000);
  await keepLoading(load, 500, 10);
  const figures = summary(await load.stop());
  t.equal(figures.failed, 0, `no prediction failed while the link was down (${figures.sent} sent) ${JSON.stringify(figures.failures)}`);
  const hedges = await counter(topo.router.url, 'router_hedges_total');
  const retries = await counter(topo.router.url, 'router_retries_total');
  await record({
    scenario: 'Link cut',
    what: `the link to 1 of 2 replicas (its own network namespace, over veth) taken down under load at c=${CONCURRENCY}, then back`,
    ...figures,
    recovery: `ejected ${ejected} ms after the cut; back ${back} ms after the link came up; ${hedges} hedged, ${retries} retried`,
  });
});
