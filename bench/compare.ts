// npm run bench:compare -- <git ref> [--rounds 3] [--requests 10000] [--concurrency 50] [--keep-alive] [--cold] [--state-store]
//                                    [--text "..."]
//
// This checkout against an earlier commit, each run as `npm start` runs it: the ref is checked out
// in a worktree (kept under the system's temp folder, keyed by commit, for the next comparison),
// both are built, and both deployments run side by side on ports of their own. The seed's load
// test (ab -n 10000 -c 50, POST /predict, a new connection per request unless --keep-alive) then
// goes to one and the other in turn for several rounds, the first of each pair alternating (two
// identical builds measured 0.87x and 0.96x of each other when one always went first), both
// deployments started afresh for each round (one started deployment keeps its own speed for as
// long as it lives), after a warm-up run each (--cold: none, the first run a new user makes after
// npm start's banner). Each run reads requests/s, P50/P95/P99, failures,
// the CPU that every process of the deployment spent per request, where the router sent the
// requests and how full its batches were. npm start's rate limit (60,000 a minute per client)
// stays on but is raised above what the run sends, so it counts without clipping; the guard only
// reports (see below). --text sends another sentence than the seed's short one (a change to
// tokenizing shows on text of a real length).
// Prints the tables and writes them to bench/RESULTS.md.   (needs: git, apache2-utils)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { sumBy } from '../testkit/metrics-text.ts';
import { ROOT } from '../testkit/processes.ts';
import { redisVersion, startRedis } from '../testkit/redis.ts';
import { abInstalled, runAb, type AbResult } from './lib/ab.ts';
import { describeMachine } from './lib/machine.ts';
import { cpuMeter, processTree, type DeploymentProcess } from './lib/process-tree.ts';
import { startDeployment, type Deployment } from './lib/deployment.ts';
import { writeSection } from './lib/results-file.ts';
import { median } from './lib/stats.ts';

/** The seed's load test's request: {"text": SEED_TEXT}. */
const SEED_TEXT = 'a gripping , beautifully acted film';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '50' },
    'keep-alive': { type: 'boolean', default: false },
    // No warm-up run: what the first test after `npm start` sees.
    cold: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    // This checkout's router(s) on a shared state store (a redis-server started here): what the
    // store costs, against the ref embedded (compare HEAD with itself to isolate it).
    'state-store': { type: 'boolean', default: false },
    // The text every request classifies.
    text: { type: 'string', default: SEED_TEXT },
  },
});
const [ref] = positionals;
const ROUNDS = Number(values.rounds);
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
if (!ref || !(ROUNDS >= 1) || !(REQUESTS >= 1) || !(CONCURRENCY >= 1)) {
  console.error('usage: npm run bench:compare -- <git ref> [--rounds 3] [--requests 10000] [--concurrency 50] [--keep-alive] [--cold] [--state-store] [--text "..."] [--no-write]');
  process.exit(2);
}
if (!abInstalled()) {
  console.error('ab is not installed: apt-get install -y apache2-utils');
  process.exit(2);
}

const TOKEN = 'bench-compare-admin-token-0123456789';
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
let commit: string;
try {
  commit = git('rev-parse', '--verify', `${ref}^{commit}`);
} catch {
  console.error(`bench:compare: ${ref} is not a commit of this repository`);
  process.exit(2);
}
const short = commit.slice(0, 7);
// What runs here: the commit, and whether it carries changes (the results file itself aside).
const headDescription = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/RESULTS.md') ? ' + uncommitted changes' : ''}`;

/** The ref's checkout, made once per commit and kept for the next comparison. */
function worktree(): string {
  const dir = path.join(os.tmpdir(), 'sentiment-bench-compare', commit);
  git('worktree', 'prune');
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(`checking out ${short} in ${dir}`);
    git('worktree', 'add', '--detach', dir, commit);
  }
  const modules = path.join(dir, 'node_modules');
  if (!fs.existsSync(modules)) {
    // The same lockfile: the same packages, so this checkout's serve it.
    if (fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8') === fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) {
      fs.symlinkSync(path.join(ROOT, 'node_modules'), modules, 'dir');
    } else {
      console.log(`installing ${short}'s packages`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    }
  }
  return dir;
}

function build(root: string): void {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
}

interface Side {
  name: string;
  root: string;
  deployment?: Deployment;
  processes: DeploymentProcess[];
  runs: Run[];
}

interface Run extends AbResult {
  round: number;
  /** CPU µs per request, by process role. */
  cpu: Map<string, number>;
  /** Requests each environment answered (the router's request counter). */
  served: Map<string, number>;
  /** Mean texts per coalesced batch, by environment (none when the router did not coalesce). */
  batch: Map<string, number>;
}

/** The router's counters that say where the run's requests went and how they travelled. */
async function routerCounters(side: Side): Promise<{ served: Map<string, number>; batchSum: Map<string, number>; batchCount: Map<string, number> }> {
  const text = await fetch(`${side.deployment!.base}/metrics`).then((r) => r.text());
  return {
    served: sumBy(text, 'sentiment_api_requests_total', 'backend'),
    batchSum: sumBy(text, 'router_coalesced_batch_size_sum', 'environment'),
    batchCount: sumBy(text, 'router_coalesced_batch_size_count', 'environment'),
  };
}

const minus = (after: Map<string, number>, before: Map<string, number>) => new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));

/**
 * The side's deploy/local.yaml as shipped, moved to ports of its own, with a copy of its weights
 * file: a weight change during the run (the guard's, say) stays with that run.
 */
function deploymentFile(side: Side, dir: string, portBase: number): string {
  const name = side === head ? 'head' : 'base';
  const topology = parse(fs.readFileSync(path.join(side.root, 'deploy/local.yaml'), 'utf8'));
  topology.router.port = portBase;
  if (topology.router.grpc_port) topology.router.grpc_port = portBase + 1;
  if (topology.services.first_port) topology.services.first_port = portBase + 10;
  const weights = path.join(dir, `${name}-weights.yaml`);
  fs.copyFileSync(path.resolve(side.root, topology.router.weights_file), weights);
  topology.router.weights_file = weights;
  if (side === head && redis) topology.router.state_store = redis.url;
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, stringify(topology));
  return file;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'));
const bodyFile = path.join(dir, 'body.json');
fs.writeFileSync(bodyFile, JSON.stringify({ text: values.text }));

const redis = values['state-store'] ? await startRedis() : undefined;
const head: Side = { name: redis ? 'this checkout, shared store' : 'this checkout', root: ROOT, processes: [], runs: [] };
const base: Side = { name: short, root: worktree(), processes: [], runs: [] };
console.log(`building this checkout and ${short}`);
build(head.root);
build(base.root);

const stopAll = async () => {
  await Promise.all([head, base].map((s) => s.deployment?.stop()));
  await redis?.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

async function measure(side: Side, round: number, requests = REQUESTS): Promise<Run> {
  const before = await routerCounters(side);
  const spent = cpuMeter(side.processes);
  const result = await runAb({ url: `${side.deployment!.base}/predict`, bodyFile, requests, concurrency: CONCURRENCY, keepAlive: values['keep-alive'] });
  const cpu = new Map([...spent()].map(([role, seconds]) => [role, (seconds * 1e6) / result.complete]));
  const after = await routerCounters(side);
  const batchCount = minus(after.batchCount, before.batchCount);
  const batch = new Map([...minus(after.batchSum, before.batchSum)].filter(([e]) => batchCount.get(e)).map(([e, sum]) => [e, sum / batchCount.get(e)!]));
  return { ...result, round, cpu, served: minus(after.served, before.served), batch };
}

async function start(side: Side, i: number, round: number): Promise<void> {
  // The rate limit raised, not off: the limiter keeps its cost on every request, and no run is
  // clipped by it. The guard reports instead of acting: ab saturates the machine, under which
  // the transformer canary's P95 can trip it, and a canary taken out on one side only would
  // leave the two serving different splits (its decisions still show in the router's log).
  side.deployment = await startDeployment({
    root: side.root,
    deploymentFile: deploymentFile(side, dir, 18080 + i * 1000),
    token: TOKEN,
    // ROUTER_*: the router's settings since it has a file of its own; the bare names, before.
    env: { RUN_DIR: path.join(dir, `run-${round}-${i}`), ROUTER_RATE_LIMIT_MAX: '100000000', ROUTER_GUARD_MODE: 'alert', RATE_LIMIT_MAX: '100000000', GUARD_MODE: 'alert' },
  });
  side.processes = processTree(side.deployment.proc.pid!).filter((p) => p.role !== 'other');
  // The store is part of what the shared state costs: its CPU counts with the side that uses it.
  if (side === head && redis) side.processes.push({ pid: redis.proc.pid!, role: 'redis-server' });
  if (round === 1) console.log(`${side.name}: ${side.deployment.base} (${side.processes.map((p) => p.role).join(', ')})`);
}

try {
  for (let round = 1; round <= ROUNDS; round++) {
    // Both deployments are started afresh each round: one started deployment can run 10-20%
    // faster or slower than an identical one for as long as it lives (two builds of one commit
    // measured 0.81-0.97x in five rounds on the same pair of deployments), so each round is a new
    // draw of both instead of the same pair again.
    const order = round % 2 ? [head, base] : [base, head];
    for (const side of order) await start(side, side === head ? 0 : 1, round);
    if (!values.cold) for (const side of order) await measure(side, 0, Math.min(REQUESTS, 5000));
    for (const side of order) {
      const run = await measure(side, round);
      side.runs.push(run);
      console.log(`round ${round} ${side.name}: ${run.rps} requests/s, P95 ${run.p95} ms, ${run.failed} failed, router ${Math.round(run.cpu.get('router') ?? NaN)} µs/request`);
    }
    await Promise.all([head, base].map((s) => s.deployment?.stop()));
    for (const side of [head, base]) side.deployment = undefined;
  }
} finally {
  await stopAll();
}

/** The median, to two decimals. */
const medianOf = (xs: number[]) => Math.round(median(xs) * 100) / 100;
const roles = [...new Set([head, base].flatMap((s) => s.processes.map((p) => p.role)))].sort((a, b) => (a === 'router' ? -1 : b === 'router' ? 1 : a.localeCompare(b)));
const shares = (r: Run) => {
  const total = [...r.served.values()].reduce((a, b) => a + b, 0);
  return [...r.served].map(([e, n]) => `${e} ${((100 * n) / total).toFixed(1)}`).join(', ');
};
const allCpu = (r: Run) => [...r.cpu.values()].reduce((a, b) => a + b, 0);
const us = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : '—');

const perRound = [
  `| round | deployment | requests/s | P50 ms | P95 ms | P99 ms | failed | ${roles.map((r) => `${r} µs/req`).join(' | ')} | all µs/req | served % | texts per batch |`,
  `| ---: | --- | ---: | ---: | ---: | ---: | ---: | ${roles.map(() => '---:').join(' | ')} | ---: | --- | --- |`,
  ...[...head.runs, ...base.runs]
    .sort((a, b) => a.round - b.round)
    .map((r) => {
      const side = head.runs.includes(r) ? head : base;
      return `| ${r.round} | ${side.name} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.failed} | ${roles.map((role) => us(r.cpu.get(role) ?? NaN)).join(' | ')} | ${us(allCpu(r))} | ${shares(r)} | ${[...r.batch].map(([e, n]) => `${e} ${n.toFixed(1)}`).join(', ') || '—'} |`;
    }),
].join('\n');
const summaryRow = (s: Side) =>
  `| ${s.name} | ${medianOf(s.runs.map((r) => r.rps))} | ${medianOf(s.runs.map((r) => r.p50))} | ${medianOf(s.runs.map((r) => r.p95))} | ${medianOf(s.runs.map((r) => r.p99))} | ${s.runs.reduce((n, r) => n + r.failed, 0)} | ${roles.map((role) => us(medianOf(s.runs.map((r) => r.cpu.get(role) ?? NaN)))).join(' | ')} | ${us(medianOf(s.runs.map(allCpu)))} |`;
const ratios = head.runs.map((h, i) => h.rps / base.runs[i].rps);
const ratio = medianOf(ratios);
const summary = [
  `| deployment | requests/s | P50 ms | P95 ms | P99 ms | failed | ${roles.map((r) => `${r} µs/req`).join(' | ')} | all µs/req |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ${roles.map(() => '---:').join(' | ')} | ---: |`,
  summaryRow(head),
  summaryRow(base),
].join('\n');
const verdict = `**${ratio.toFixed(2)}×** ${short}'s requests/s (median of the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' / ')}); router CPU per request ${(medianOf(head.runs.map((r) => r.cpu.get('router') ?? NaN)) / medianOf(base.runs.map((r) => r.cpu.get('router') ?? NaN))).toFixed(2)}×, all processes ${(medianOf(head.runs.map(allCpu)) / medianOf(base.runs.map(allCpu))).toFixed(2)}×.`;
const mode = values['keep-alive'] ? `ab -k -n ${REQUESTS} -c ${CONCURRENCY}` : `ab -n ${REQUESTS} -c ${CONCURRENCY}`;
const otherText = values.text !== SEED_TEXT;
const invocation = `npm run bench:compare -- ${ref}${values.cold ? ' --cold' : ''}${redis ? ' --state-store' : ''}${otherText ? ` --text ${JSON.stringify(values.text)}` : ''}`;
const markdown = `## ${headDescription}${redis ? ' on a shared state store' : ''} against ${short} (\`${invocation}\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. Both deployments as \`npm start\` runs them (each
its own deploy/local.yaml on ports of its own, rate limit raised past the run, the guard reporting instead of taking
the canary out so both serve the same split)${redis ? `, this checkout's router with \`router.state_store\` set to a redis-server ${redisVersion()} started by the bench (append-only file, fsync always): rate limit counted, predictions and the report's figures written there` : ''}, side by side; \`${mode}\` POST /predict${otherText ? ` of ${JSON.stringify({ text: values.text })}` : ''}
to one and then the other, the first of each pair alternating, ${ROUNDS} rounds, each on both deployments started afresh and ${values.cold ? 'measured from their first request (no warm-up run)' : 'after a warm-up run each'}. CPU per
request is what each process spent during the run (replicas of one version added up${redis ? '; the redis-server with the side that uses it' : ''}), divided by the requests;
"served %" is where the router sent them (its request counter), "texts per batch" how full its coalesced batches were.

This checkout: ${verdict}

Medians of the rounds:

${summary}

Each round:

${perRound}`;
console.log(`\n${markdown}`);
if (!values['no-write']) writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), `compare-${ref}${values.cold ? '-cold' : ''}${redis ? '-state-store' : ''}${otherText ? '-text' : ''}`, markdown);
await redis?.stop();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
