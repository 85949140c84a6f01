// npm run bench:routers [--rounds 3] [--requests 10000] [--concurrency 50] [--served-per-router 20000] [--no-write]
//
// One router against two on the same machine: the shipped deployment (deploy/local.yaml, as npm
// start runs it) started twice side by side, once with router.instances 1 and once with 2 (the two
// sharing the redis-server npm start starts for them), each behind HAProxy balancing round robin
// over its routers (so both pay the same balancer), and the seed's load test (ab -c 50, POST
// /predict) sent to one and the other in turn, the first of each pair alternating, both sides
// started afresh for each round. Each side is measured twice: fresh (after a warm-up of 5,000
// requests, as bench:compare does), and warmed (once each of its routers has served
// --served-per-router requests). V8 optimizes a router's code by the traffic that router has seen,
// so each of two routers, with half the traffic, is still compiling it when one router is done.
// Writes the requests/s, latency, CPU and coalesced batch size of each to bench/RESULTS.md, with
// the ratio two / one, and how long a weight change made through one router takes to be in force
// at the other.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { ROOT } from '../testkit/processes.ts';
import { abInstalled, runAb, type AbResult } from './lib/ab.ts';
import { buildDist } from './lib/build.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { shippedDeploymentFile, startDeployment, type Deployment } from './lib/deployment.ts';
import { HAPROXY_BIN, startHaproxy } from './lib/haproxy.ts';
import { describeMachine } from './lib/machine.ts';
import { processTree } from './lib/process-tree.ts';
import { writeSection } from './lib/results-file.ts';
import { median } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '50' },
    'served-per-router': { type: 'string', default: '20000' },
    'no-write': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const SERVED_PER_ROUTER = Number(values['served-per-router']);
const WARM_UP = 5000;
const TOKEN = 'bench-routers-admin-token-0123456789';
if (!abInstalled() || !HAPROXY_BIN) {
  console.error('bench:routers needs ab and HAProxy: apt-get install -y apache2-utils haproxy (and redis-server for the two routers)');
  process.exit(1);
}

type Phase = 'fresh' | 'warmed';
type Run = AbResult & { round: number; phase: Phase; cpuUs: number; parts: Map<Part, number>; textsPerBatch: number };

interface Side {
  name: string;
  instances: number;
  routers: string[];
  deployment?: Deployment;
  balancer?: ReturnType<typeof startHaproxy>;
  runs: Run[];
  /** Requests this side has served since it started. */
  served: number;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-routers-'));
const bodyFile = path.join(dir, 'body.json');
fs.writeFileSync(bodyFile, JSON.stringify({ text: 'a gripping , beautifully acted film' }));
const sides: Side[] = [
  { name: 'one router', instances: 1, routers: [], runs: [], served: 0 },
  { name: 'two routers', instances: 2, routers: [], runs: [], served: 0 },
];

/** The shipped deployment file with this many routers, in a folder of its own. */
function deploymentFile(side: Side): string {
  const own = path.join(dir, `routers-${side.instances}`);
  fs.mkdirSync(own, { recursive: true });
  const file = shippedDeploymentFile(own);
  const deployment = parse(fs.readFileSync(file, 'utf8'));
  deployment.router.instances = side.instances;
  fs.writeFileSync(file, stringify(deployment));
  return file;
}

/** The parts of a side whose CPU the table shows apart. */
const PARTS = ['routers', 'replicas', 'redis-server', 'HAProxy', 'launcher'] as const;
type Part = (typeof PARTS)[number];

/** CPU seconds of everything the side runs (launcher, routers, replicas, redis-server) and its balancer, by part. */
function cpuOf(side: Side): Map<Part, number> {
  const parts = new Map<Part, number>(PARTS.map((p) => [p, 0]));
  const processes = [...processTree(side.deployment!.proc.pid!), { pid: side.balancer!.proc.pid!, role: 'HAProxy' }];
  for (const { pid, role } of processes) {
    try {
      let part: Part = 'launcher'; // and anything else the launcher runs
      if (role === 'router') part = 'routers';
      else if (role.startsWith('replica')) part = 'replicas';
      else if (role === 'HAProxy' || role === 'redis-server') part = role;
      parts.set(part, parts.get(part)! + cpuSeconds(pid));
    } catch {
      // gone meanwhile
    }
  }
  return parts;
}

/** The texts and batches every router of the side coalesced so far. */
async function coalesced(side: Side): Promise<{ texts: number; batches: number }> {
  let texts = 0;
  let batches = 0;
  for (const url of side.routers) {
    const metrics = await fetch(`http://${url}/metrics`).then((r) => r.text());
    for (const m of metrics.matchAll(/^router_coalesced_batch_size_(sum|count)\{[^}]*\} ([\d.e+]+)$/gm)) {
      if (m[1] === 'sum') texts += Number(m[2]);
      else batches += Number(m[2]);
    }
  }
  return { texts, batches };
}

/** One ab run against the side: recorded under `phase`, or only counted as warm-up without one. */
async function measure(side: Side, round: number, phase?: Phase, requests = REQUESTS): Promise<void> {
  const before = cpuOf(side);
  const batchesBefore = await coalesced(side);
  const result = await runAb({ url: `${side.balancer!.url}/predict`, bodyFile, requests, concurrency: CONCURRENCY });
  side.served += result.complete;
  const after = cpuOf(side);
  const parts = new Map(PARTS.map((p) => [p, ((after.get(p)! - before.get(p)!) * 1e6) / result.complete]));
  const cpuUs = [...parts.values()].reduce((a, b) => a + b, 0);
  const batchesAfter = await coalesced(side);
  const textsPerBatch = Math.round(((batchesAfter.texts - batchesBefore.texts) / Math.max(1, batchesAfter.batches - batchesBefore.batches)) * 10) / 10;
  if (phase) side.runs.push({ ...result, round, phase, cpuUs, parts, textsPerBatch });
  console.log(`round ${round} ${phase ?? 'warm-up'} ${side.name}: ${result.rps} requests/s, P95 ${result.p95} ms, ${result.failed} failed, ${Math.round(cpuUs)} µs CPU/request, ${textsPerBatch} texts per coalesced batch`);
}

/**
 * How long a weight change made through one router takes to be in force at the other: `n` changes
 * through router 1 (the first environment's weight moved by one and back), each timed until router
 * 2's GET /admin/config shows its generation.
 */
async function propagation(side: Side, n: number): Promise<number[]> {
  const [a, b] = side.routers.map((url) => `http://${url}`);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const config = async (base: string) => (await fetch(`${base}/admin/config`, { headers }).then((r) => r.json())) as { generation: number; environments: { name: string; weight: number }[] };
  const first = (await config(a)).environments[0];
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const changed = (await fetch(`${a}/admin/weights`, { method: 'PUT', headers, body: JSON.stringify({ weights: { [first.name]: first.weight + (i % 2 ? 0 : 1) } }) }).then((r) => r.json())) as { generation: number };
    while ((await config(b)).generation < changed.generation) await new Promise((r) => setTimeout(r, 1));
    times.push(Math.round((performance.now() - started) * 10) / 10);
  }
  return times;
}

async function start(side: Side, round: number): Promise<void> {
  side.deployment = await startDeployment({
    deploymentFile: deploymentFile(side),
    token: TOKEN,
    // As bench:compare: the rate limit raised past the run (its cost kept), the guard reporting.
    env: { RUN_DIR: path.join(dir, `run-${round}-${side.instances}`), ROUTER_RATE_LIMIT_MAX: '100000000', ROUTER_GUARD_MODE: 'alert' },
  });
  const urls = [...(/API\s+(.+?)\s+\(POST/.exec(side.deployment.output())?.[1] ?? '').matchAll(/http:\/\/(127\.0\.0\.1:\d+)\/predict/g)].map((m) => m[1]);
  if (urls.length !== side.instances) throw new Error(`${side.name}: the banner names ${urls.length} routers`);
  side.routers = urls;
  side.served = 0;
  side.balancer = startHaproxy({ dir: path.join(dir, `routers-${side.instances}`), balance: 'roundrobin', servers: urls.map((address, i) => `router-${i + 1} ${address} check inter 1s`) });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await fetch(`${side.balancer.url}/health/ready`).then((r) => r.status, () => 0)) !== 200) await new Promise((r) => setTimeout(r, 200));
  if (round === 1) console.log(`${side.name}: ${urls.join(', ')} behind HAProxy at ${side.balancer.url}`);
}

async function stop(side: Side): Promise<void> {
  side.balancer?.proc.kill('SIGTERM');
  await side.deployment?.stop();
  side.balancer = undefined;
  side.deployment = undefined;
}

let applied: number[] = [];
console.log('building');
buildDist();
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // Both sides started afresh each round, as bench:compare does: a started deployment keeps its
    // own speed while it lives, so each round is a new draw of both.
    const order = round % 2 ? sides : [...sides].reverse();
    for (const side of order) await start(side, round);
    for (const side of order) await measure(side, round, undefined, WARM_UP);
    for (const side of order) await measure(side, round, 'fresh');
    for (const side of order) {
      const more = SERVED_PER_ROUTER * side.instances - side.served;
      if (more > 0) await measure(side, round, undefined, more);
    }
    for (const side of order) await measure(side, round, 'warmed');
    if (round === ROUNDS) applied = await propagation(sides[1], 20);
    for (const side of sides) await stop(side);
  }
} finally {
  for (const side of sides) await stop(side);
  fs.rmSync(dir, { recursive: true, force: true });
}

const [one, two] = sides;
const runs = (s: Side, phase: Phase) => s.runs.filter((r) => r.phase === phase);
const ratiosOf = (phase: Phase) => runs(one, phase).map((r, i) => runs(two, phase)[i].rps / r.rps);
const summary = (phase: Phase) => {
  const ratios = ratiosOf(phase);
  return `**${(Math.round(median(ratios) * 100) / 100).toFixed(2)}×** (median of the rounds' ratios: ${ratios.map((x) => x.toFixed(2)).join(' / ')})`;
};
const row = (s: Side, r: Run) => `| ${r.round} | ${r.phase} | ${s.name} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.failed} | ${Math.round(r.cpuUs)} | ${PARTS.map((p) => Math.round(r.parts.get(p)!)).join(' | ')} | ${r.textsPerBatch} |`;
const sorted = [...applied].sort((x, y) => x - y);
const markdown = [
  `## One router against two (\`npm run bench:routers\`)`,
  '',
  `${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. The shipped deployment started twice side by side as \`npm start\` runs it, with \`router.instances\` 1 and 2 (the two routers sharing the redis-server npm start starts for them: rate limits, predictions, the report, the windows), each behind HAProxy (one thread, round robin over its routers); \`ab -n ${REQUESTS} -c ${CONCURRENCY}\` POST /predict to one balancer and then the other, the first of each pair alternating, ${ROUNDS} rounds, each on both sides started afresh. Each side is measured fresh (after a warm-up of ${WARM_UP.toLocaleString('en-US')} requests, as bench:compare does) and warmed (once each of its routers has served ${SERVED_PER_ROUTER.toLocaleString('en-US')} requests: V8 optimizes a router's code by the traffic that router has seen, and each of two routers sees half). CPU per request adds up every process of the side: launcher, routers, replicas, redis-server and HAProxy (each part also shown apart).`,
  '',
  `Warmed, two routers serve ${summary('warmed')} one router's requests/s on the same two cores; fresh, ${summary('fresh')}.`,
  '',
  `| round | measured | deployment | requests/s | P50 ms | P95 ms | P99 ms | failed | CPU µs/request | ${PARTS.map((p) => `of which ${p}`).join(' | ')} | texts per coalesced batch |`,
  `| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ${PARTS.map(() => '---:').join(' | ')} | ---: |`,
  ...one.runs.flatMap((r, i) => [row(one, r), row(two, two.runs[i])]),
  '',
  `A weight change through router 1, in force at router 2 (its GET /admin/config at the new generation), measured from the PUT, with no load: median ${median(sorted)} ms, slowest ${sorted.at(-1)} ms over ${sorted.length} changes (the goal is 1 s).`,
].join('\n');
console.log(`\n${markdown}`);
if (!values['no-write']) writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'routers', markdown);
