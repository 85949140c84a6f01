// The same three backends (blue 1.0.0, green 1.1.0, canary 2.0.0; one service process each) behind
// (a) this router and (b) HAProxy from Debian, both with the 70/25/5 split and readiness checks,
// plus a direct call to one backend as the baseline; the router twice, as a plain proxy and with
// request coalescing. Throughput: autocannon c=50, 20 s per target, targets alternating for N
// rounds; each keeps its best round. Latency added: the same targets at fixed rates every one of
// them sustains (open loop), so queueing behind a saturated core does not hide the proxy's own
// delay. Writes bench/RESULTS.md.
//   npm run bench:router -- [--duration 20] [--rounds 2] [--rates 250,1000] [--backend-nice 10]
//   (needs: apt-get install haproxy)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HAPROXY_BIN, startHaproxy } from './lib/haproxy.ts';
import { runLoad, runPaced, type LoadResult } from './lib/load.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { describeMachine } from './lib/machine.ts';
import { buildDist } from './lib/build.ts';
import { writeSection } from './lib/results-file.ts';
import { BUILT_SERVICE_ENTRY, ROOT, startProcess, type RunningProcess } from '../tests/helpers/service-process.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    rates: { type: 'string', default: '250,1000' },
    // The backends' scheduling niceness, as deploy/local.yaml runs replicas (0: equal priority).
    'backend-nice': { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
  },
});
const durationSec = Number(values.duration);
const connections = Number(values.connections);
const body = JSON.stringify({ text: "it 's a charming and often affecting journey , even if the plot is predictable ." });
if (!HAPROXY_BIN) {
  console.error('HAProxy is not installed: apt-get install -y haproxy');
  process.exit(2);
}
buildDist();

const procs: RunningProcess[] = [];
const cleanup = async () => Promise.all(procs.map((p) => p.stop()));
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const envs = [
  { name: 'blue', version: '1.0.0', weight: 70 },
  { name: 'green', version: '1.1.0', weight: 25 },
  { name: 'canary', version: '2.0.0', weight: 5 },
];
const backends = [];
for (const e of envs) {
  const p = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: e.version, LOG_LEVEL: 'info' }, BUILT_SERVICE_ENTRY);
  procs.push(p);
  if (Number(values['backend-nice']) > 0) os.setPriority(p.proc.pid!, Number(values['backend-nice']));
  backends.push({ ...e, url: p.url });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-bench-'));
const weightsFile = path.join(dir, 'weights.yaml');
fs.writeFileSync(weightsFile, `environments:\n${backends.map((b) => `  ${b.name}: { weight: ${b.weight}, model_version: ${b.version}, upstreams: [${b.url}] }`).join('\n')}\n`);
const startRouter = async (env: Record<string, string>) => {
  const router = await startProcess(
    { WEIGHTS_FILE: weightsFile, ROUTER_ADMIN_TOKEN: 'bench-admin-token-0123456789', ROUTER_PORT: '0', LOG_LEVEL: 'info', HEALTH_INTERVAL_MS: '1000', HEALTH_RISE: '2', HEALTH_FALL: '2', RATE_LIMIT_MAX: '0', ...env },
    path.join(ROOT, 'dist/router/src/server.js'),
  );
  procs.push(router);
  return router;
};
const router = await startRouter({});
const coalescing = await startRouter({ COALESCE_MAX_BATCH: '32' });

const haproxy = startHaproxy({
  dir,
  balance: 'random',
  backend: ['http-request set-header X-Forwarded-Proto http'],
  servers: backends.map((b) => `${b.name} ${new URL(b.url).host} weight ${b.weight} check inter 1s fall 2 rise 2 maxconn 32`),
});
await new Promise((r) => setTimeout(r, 3000)); // both proxies pass their first health checks

interface Row extends LoadResult {
  target: string;
  proxyCpuUs: number | null;
}

const targets = [
  { name: 'direct to blue (1.0.0), no proxy', url: backends[0].url, pid: null as number | null },
  { name: 'this router (70/25/5)', url: router.url, pid: router.proc.pid! },
  { name: 'this router, coalescing (70/25/5)', url: coalescing.url, pid: coalescing.proc.pid! },
  { name: 'HAProxy 2.6 (70/25/5)', url: haproxy.url, pid: haproxy.proc.pid! },
];
const runs = new Map<string, Row[]>(targets.map((t) => [t.name, []]));
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const t of targets) {
    await runLoad({ url: t.url, path: '/predict', body, connections, durationSec: 3 });
    const before = t.pid ? cpuSeconds(t.pid) : 0;
    const r = await runLoad({ url: t.url, path: '/predict', body, connections, durationSec });
    const row = { target: t.name, ...r, proxyCpuUs: t.pid ? Math.round(((cpuSeconds(t.pid) - before) / r.requests) * 1e6) : null };
    console.log(JSON.stringify(row));
    runs.get(t.name)!.push(row);
  }
}
// Latency added at fixed rates: every target gets the same open-loop load, alternating, best
// (lowest P99) of the rounds kept.
const rates = values.rates!.split(',').map(Number);
const paced = new Map<string, LoadResult[]>(rates.flatMap((rate) => targets.map((t) => [`${rate} ${t.name}`, []] as [string, LoadResult[]])));
for (const rate of rates) {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const t of targets) {
      const r = await runPaced({ url: t.url, path: '/predict', body, connections, durationSec: 10, rate });
      console.log(JSON.stringify({ target: t.name, rate, ...r }));
      paced.get(`${rate} ${t.name}`)!.push(r);
    }
  }
}
haproxy.proc.kill('SIGTERM');
await cleanup();

const best = (name: string) => runs.get(name)!.reduce((a, b) => (b.rps > a.rps ? b : a));
const [direct, ours, coalesced, theirs] = targets.map((t) => best(t.name));
const table = [
  '| target | rps (best) | P50 ms | P95 ms | P99 ms | errors | non-2xx | proxy CPU µs/request | rps per round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...[direct, ours, coalesced, theirs].map((r) => `| ${r.target} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.proxyCpuUs ?? '—'} | ${runs.get(r.target)!.map((x) => x.rps).join(' / ')} |`),
].join('\n');
const calmest = (rate: number, name: string) => paced.get(`${rate} ${name}`)!.reduce((a, b) => (b.p99 < a.p99 ? b : a));
const addedAt = (rate: number, i: number, p: 'p50' | 'p99') => (calmest(rate, targets[i].name)[p] - calmest(rate, targets[0].name)[p]).toFixed(2);
const pacedTable = [
  '| target | requests/s | P50 ms | P99 ms | P50 added ms | P99 added ms | errors | non-2xx | P99 per round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rates.flatMap((rate) =>
    targets.map((t, i) => {
      const r = calmest(rate, t.name);
      return `| ${t.name} | ${rate} | ${r.p50} | ${r.p99} | ${i === 0 ? '—' : addedAt(rate, i, 'p50')} | ${i === 0 ? '—' : addedAt(rate, i, 'p99')} | ${r.errors} | ${r.non2xx} | ${paced.get(`${rate} ${t.name}`)!.map((x) => x.p99).join(' / ')} |`;
    }),
  ),
].join('\n');
const ratio = (r: Row) => (r.rps / theirs.rps).toFixed(2);
const summary = `Throughput against HAProxy: plain router **${ratio(ours)}**, coalescing router **${ratio(coalesced)}** (target ≥ 0.6). P99 added over the direct call (target ≤ 5 ms): ${rates.map((rate) => `at ${rate} requests/s plain router ${addedAt(rate, 1, 'p99')} ms, coalescing router ${addedAt(rate, 2, 'p99')} ms, HAProxy ${addedAt(rate, 3, 'p99')} ms`).join('; ')}; at saturation (c=${connections}, above) the P99s are queueing behind the slowest process and say more about throughput than about the proxy.`;
console.log(`\n${table}\n\n${pacedTable}\n\n${summary}`);
writeSection(
  values.results!,
  'router-bench',
  `## Router against HAProxy (\`npm run bench:router\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. Three service processes (blue 1.0.0, green 1.1.0,
canary 2.0.0, compiled, default settings, nice ${values['backend-nice']} as in deploy/local.yaml) behind each proxy with the same 70/25/5 split and readiness checks every
1 s (rise 2, fall 2); HAProxy 2.6 single-threaded with keep-alive to the backends; the router's rate limit is off
(HAProxy has none); the router runs twice, as a plain proxy and with request coalescing (COALESCE_MAX_BATCH=32).
Throughput: autocannon c=${connections}, ${durationSec} s per target after a 3 s warm-up, ${values.rounds} alternating rounds,
best round kept. Latency added: ${rates.join(' and ')} requests/s, paced open loop (each request due at its own instant, latency counted
from then) over up to ${connections} connections, for 10 s per target, ${values.rounds} alternating rounds,
lowest P99 kept. Everything shares the 2 cores.

${table}

${pacedTable}

${summary}`,
);
process.exit(0);
