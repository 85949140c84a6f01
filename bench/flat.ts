// npm run bench:flat [-- --requests 1000000 --per-run 25000]
//
// Does the router stay as cheap after a million requests as after the first fifty thousand? The
// shipped deployment (deploy/local.yaml as npm start runs it; rate limit raised past the run) takes
// `ab -k -n 25000 -c 50` POST /predict again and again until a million requests have been served,
// and after each run the router's CPU per request and resident memory are read from /proc, with
// the replicas' CPU per request as a control (a slow stretch of this shared machine raises both; a
// router that degrades as it serves raises its own alone). Every
// bounded memory is full long before the end (the feedback memory holds the last 100,000
// predictions). Writes the curve and the ratio to bench/RESULTS.md, with where the resident memory
// lives: V8's heap, and the C allocator's main heap (what Node's own C++ allocates).
// (needs: apache2-utils)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { metricSamples } from '../testkit/metrics-text.ts';
import { rssBytes, ROOT } from '../testkit/processes.ts';
import { abInstalled, runAb } from './lib/ab.ts';
import { buildDist } from './lib/build.ts';
import { shippedDeploymentFile, startDeployment } from './lib/deployment.ts';
import { describeMachine } from './lib/machine.ts';
import { cpuMeter, processTree } from './lib/process-tree.ts';
import { writeSection } from './lib/results-file.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000000' }, 'per-run': { type: 'string', default: '25000' } } });
const TOTAL = Number(values.requests);
const PER_RUN = Number(values['per-run']);
/** The reference point: after this many requests. */
const EARLY = 50_000;
if (!abInstalled()) {
  console.error('ab is not installed: apt-get install -y apache2-utils');
  process.exit(2);
}
if (!(PER_RUN >= 1) || !(TOTAL >= 2 * EARLY)) {
  console.error(`usage: npm run bench:flat -- [--requests N (at least ${2 * EARLY})] [--per-run N]`);
  process.exit(2);
}
buildDist();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-flat-'));
const bodyFile = path.join(dir, 'body.json');
fs.writeFileSync(bodyFile, JSON.stringify({ text: 'a gripping , beautifully acted film' }));
const deploymentFile = shippedDeploymentFile(dir);
const deployment = await startDeployment({
  deploymentFile,
  token: 'bench-flat-admin-token-0123456789',
  env: { RUN_DIR: path.join(dir, 'run'), ROUTER_RATE_LIMIT_MAX: '100000000', ROUTER_GUARD_MODE: 'alert' },
});
const router = processTree(deployment.proc.pid!).find((p) => p.role === 'router')!;

interface Point {
  served: number;
  rps: number;
  routerUs: number;
  /** The replicas' CPU per request, all added up: the control. */
  replicasUs: number;
  rssMb: number;
  /** V8's heap in use, from the router's own /metrics: a leak grows it, an allocator keeping pages does not. */
  heapMb: number;
  /** What V8 holds from the system for its heap (used or not), and what lives outside it (buffers). */
  heapTotalMb: number;
  externalMb: number;
  /** The C allocator's main heap: grows when freed memory cannot be given back (fragmentation). */
  nativeHeapMb: number;
}
/** Resident bytes of the process's `[heap]` mapping: the C allocator's main arena (glibc's brk heap). */
function nativeHeapBytes(pid: number): number {
  const smaps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const at = smaps.search(/^[0-9a-f]+-[0-9a-f]+ .*\[heap\]$/m);
  if (at < 0) return 0;
  const rss = /^Rss:\s+(\d+) kB/m.exec(smaps.slice(at));
  return rss ? Number(rss[1]) * 1024 : Number.NaN;
}

const points: Point[] = [];
let served = 0;
try {
  while (served < TOTAL) {
    const n = Math.min(PER_RUN, TOTAL - served);
    const replicas = processTree(deployment.proc.pid!).filter((p) => p.role.startsWith('replica'));
    const spent = cpuMeter([router, ...replicas]);
    const result = await runAb({ url: `${deployment.base}/predict`, bodyFile, requests: n, concurrency: 50, keepAlive: true });
    if (result.failed > 0) throw new Error(`${result.failed} requests failed (${result.failedDetail})`);
    served += result.complete;
    const cpu = spent();
    const routerUs = ((cpu.get('router') ?? NaN) * 1e6) / result.complete;
    const replicasUs = ([...cpu].filter(([role]) => role.startsWith('replica')).reduce((sum, [, seconds]) => sum + seconds, 0) * 1e6) / result.complete;
    const metrics = await fetch(`${deployment.base}/metrics`).then((r) => r.text());
    const point = { served, rps: result.rps, routerUs, replicasUs, rssMb: rssBytes(router.pid) / 2 ** 20, heapMb: (metricSamples(metrics, 'nodejs_heap_size_used_bytes')[0] ?? NaN) / 2 ** 20, heapTotalMb: (metricSamples(metrics, 'nodejs_heap_size_total_bytes')[0] ?? NaN) / 2 ** 20, externalMb: (metricSamples(metrics, 'nodejs_external_memory_bytes')[0] ?? NaN) / 2 ** 20, nativeHeapMb: nativeHeapBytes(router.pid) / 2 ** 20 };
    points.push(point);
    console.log(`${served} served: ${point.rps} requests/s, router ${Math.round(point.routerUs)} µs/request (replicas ${Math.round(point.replicasUs)}), RSS ${point.rssMb.toFixed(1)} MB, heap used ${point.heapMb.toFixed(1)} of ${point.heapTotalMb.toFixed(1)} MB, external ${point.externalMb.toFixed(1)} MB, native heap ${point.nativeHeapMb.toFixed(1)} MB`);
  }
} finally {
  await deployment.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

// Each figure at a mark is the mean of the runs around it (one run alone is noisy on a shared VM).
const around = (mark: number, pick: (p: Point) => number) => {
  const i = points.findIndex((p) => p.served >= mark);
  const window = points.slice(Math.max(0, i - 1), i + 2).map(pick);
  return window.reduce((a, b) => a + b, 0) / window.length;
};
const early = { us: around(EARLY, (p) => p.routerUs), replicasUs: around(EARLY, (p) => p.replicasUs), rss: around(EARLY, (p) => p.rssMb), heap: around(EARLY, (p) => p.heapMb) };
const late = { us: around(served, (p) => p.routerUs), replicasUs: around(served, (p) => p.replicasUs), rss: around(served, (p) => p.rssMb), heap: around(served, (p) => p.heapMb) };
/** Once the feedback memory is full (100,000 predictions) and a little after, nothing bounded grows any more. */
const FULL = 150_000;
const full = { rss: around(FULL, (p) => p.rssMb), heap: around(FULL, (p) => p.heapMb) };
/** The issue's own mark, stated apart when the run goes past it. */
const MILLION = 1_000_000;
const million = served > MILLION ? `\nAfter ${MILLION.toLocaleString('en')} against after ${EARLY.toLocaleString('en')}: router CPU per request ${(around(MILLION, (p) => p.routerUs) / early.us).toFixed(2)}× (the replicas' ${(around(MILLION, (p) => p.replicasUs) / early.replicasUs).toFixed(2)}×), RSS ${(around(MILLION, (p) => p.rssMb) / early.rss).toFixed(2)}×.` : '';
const marks = [EARLY, 100_000, FULL, 250_000, 500_000, 750_000, MILLION, 1_500_000, served].filter((m, i, all) => m <= served && all.indexOf(m) === i);
const table = [
  '| requests served | requests/s | router CPU µs/request | replicas CPU µs/request (control) | router RSS MB | router heap used MB | heap held MB | external MB | native heap MB |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...marks.map((m) => `| ${m.toLocaleString('en')} | ${Math.round(around(m, (p) => p.rps))} | ${Math.round(around(m, (p) => p.routerUs))} | ${Math.round(around(m, (p) => p.replicasUs))} | ${around(m, (p) => p.rssMb).toFixed(1)} | ${around(m, (p) => p.heapMb).toFixed(1)} | ${around(m, (p) => p.heapTotalMb).toFixed(1)} | ${around(m, (p) => p.externalMb).toFixed(1)} | ${around(m, (p) => p.nativeHeapMb).toFixed(1)} |`),
].join('\n');
const markdown = `## Flat with traffic served (\`npm run bench:flat\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. deploy/local.yaml as \`npm start\` runs it (rate limit
raised past the run, the guard reporting only), \`ab -k -n ${PER_RUN} -c 50\` POST /predict again and again until
${served.toLocaleString('en')} requests were served, none failed; after each run the router's CPU per request and resident
memory from /proc (and the replicas' CPU per request, all added up: a control, which a slow stretch of the machine
raises as well, and a router that degrades as it serves does not), its V8 heap in use from its /metrics, the C allocator's main heap from /proc's smaps (\`[heap]\`). Each row is the mean of the three runs around its mark. The
feedback memory (the last 100,000 predictions) is full from the 100,000th request on.

After ${served.toLocaleString('en')} requests against after ${EARLY.toLocaleString('en')}: router CPU per request **${(late.us / early.us).toFixed(2)}×** (the replicas' ${(late.replicasUs / early.replicasUs).toFixed(2)}×), RSS **${(late.rss / early.rss).toFixed(2)}×**, heap used ${(late.heap / early.heap).toFixed(2)}×.${million}
Against after ${FULL.toLocaleString('en')} (every bounded memory full): RSS ${(late.rss / full.rss).toFixed(2)}×, heap used ${(late.heap / full.heap).toFixed(2)}×.

${table}`;
console.log(`\n${markdown}`);
writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'flat', markdown);
process.exit(0);
