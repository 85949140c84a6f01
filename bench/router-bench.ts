// The same three backends (blue 1.0.0, green 1.1.0, canary 2.0.0; one service process each, run
// with deploy/local.yaml's replica settings) behind (a) this router and (b) HAProxy from Debian,
// both with the 70/25/5 split and readiness checks, plus a direct call to one backend as the
// baseline; the router twice, as a plain proxy and with request coalescing. Throughput: autocannon
// c=50, 20 s per target, targets alternating for N rounds. Latency added: the proxies and a client
// that splits 70/25/5 itself take turns in one open-loop schedule at a fixed rate each, so all see
// the same moments of this shared machine and queueing behind a saturated core does not hide the
// proxy's own delay. Writes bench/RESULTS.md.
//   npm run bench:router -- [--duration 20] [--rounds 3] [--rates 100,250] [--latency-rounds 3]
//                           [--latency-duration 20] [--backend-nice 10]
//   (needs: apt-get install haproxy)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HAPROXY_BIN, startHaproxy } from './lib/haproxy.ts';
import { runLoad, runPaced, type LoadResult, type PacedTarget } from './lib/load.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { describeMachine } from './lib/machine.ts';
import { buildDist } from './lib/build.ts';
import { writeSection } from './lib/results-file.ts';
import { median } from './lib/stats.ts';
import { readDeployment } from '../launcher/index.ts';
import { loadRouterConfig } from '../router/index.ts';
import { ROOT, startProcess, type RunningProcess } from '../testkit/processes.ts';
import { BENCH_ADMIN_TOKEN, benchRouterEnv, startSplitBackends } from './lib/split-backends.ts';

// The replicas run with deploy/local.yaml's settings (its services.env and nice), as npm start runs them.
const deployed = readDeployment(path.join(ROOT, 'deploy', 'local.yaml'));
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    rates: { type: 'string', default: '100,250' },
    'latency-duration': { type: 'string', default: '20' },
    'latency-rounds': { type: 'string', default: '3' },
    // The backends' scheduling niceness (0: equal priority); deploy/local.yaml's by default.
    'backend-nice': { type: 'string', default: String(deployed.services.nice ?? 0) },
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

const { backends, dir, weightsFile } = await startSplitBackends(deployed.services.env, Number(values['backend-nice']), procs, 'router-bench-');
const startRouter = async (env: Record<string, string>) => {
  const router = await startProcess(
    { ...benchRouterEnv(weightsFile), ...env },
    path.join(ROOT, 'dist/router/src/server.js'),
  );
  procs.push(router);
  return router;
};
// The coalescing router runs with npm start's settings file (its coalescing); both with the bench's
// weights, no rate limit and the guard only reporting (benchRouterEnv).
const coalescingEnv = { ...(deployed.router.config_file ? { ROUTER_CONFIG_FILE: path.resolve(ROOT, deployed.router.config_file) } : {}), ...deployed.router.env };
const router = await startRouter({});
const coalescing = await startRouter(coalescingEnv);

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
const DIRECT_SPLIT = 'direct, the client splitting 70/25/5, no proxy';
// Latency added at fixed rates: the direct baseline (the client itself splitting 70/25/5 over the
// same backends) and the three proxies take turns in one open-loop schedule, each at the rate.
const rates = values.rates!.split(',').map(Number);
const latencyRounds = Number(values['latency-rounds']);
const pacedTargets: PacedTarget[] = [
  { name: DIRECT_SPLIT, upstreams: backends.map((b) => ({ url: b.url, weight: b.weight })) },
  ...targets.slice(1).map((t) => ({ name: t.name, upstreams: [{ url: t.url, weight: 1 }] })),
];
const paced = new Map<number, Map<string, LoadResult>[]>(rates.map((rate) => [rate, []]));
// Not recorded: first connections and the proxies' JIT warm-up. Latency runs before the throughput
// runs, which leave every process with a grown heap and slower collections for a while.
await runPaced({ targets: pacedTargets, path: '/predict', body, connections, durationSec: 5, rate: rates[0] });
for (const rate of rates) {
  for (let round = 1; round <= latencyRounds; round++) {
    const r = await runPaced({ targets: pacedTargets, path: '/predict', body, connections, durationSec: Number(values['latency-duration']), rate });
    console.log(JSON.stringify({ rate, round, ...Object.fromEntries(r) }));
    paced.get(rate)!.push(r);
  }
}
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
haproxy.proc.kill('SIGTERM');
await cleanup();

const best = (name: string) => runs.get(name)!.reduce((a, b) => (b.rps > a.rps ? b : a));
const [direct, ours, coalesced, theirs] = targets.map((t) => best(t.name));
const table = [
  '| target | rps (best) | P50 ms | P95 ms | P99 ms | errors | non-2xx | proxy CPU µs/request | rps per round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...[direct, ours, coalesced, theirs].map((r) => `| ${r.target} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.proxyCpuUs ?? '—'} | ${runs.get(r.target)!.map((x) => x.rps).join(' / ')} |`),
].join('\n');
// Each round's P99 minus the direct split's P99 in the same round; the median round is reported.
const added = (rate: number, name: string, p: 'p50' | 'p99') => paced.get(rate)!.map((r) => r.get(name)![p] - r.get(DIRECT_SPLIT)![p]);
const medianBy = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)];
const medianRound = (rate: number, name: string) => medianBy(paced.get(rate)!.map((r) => r.get(name)!), (r) => r.p99);
const ms = (x: number) => x.toFixed(2);
const addedP99 = (rate: number, name: string) => ms(median(added(rate, name, 'p99')));
const pacedTable = [
  '| target | requests/s | P50 ms | P99 ms | P50 added ms | P99 added ms | errors | non-2xx | P99 added per round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rates.flatMap((rate) =>
    pacedTargets.map(({ name }, i) => {
      const r = medianRound(rate, name);
      const errors = paced.get(rate)!.reduce((sum, round) => sum + round.get(name)!.errors, 0);
      const non2xx = paced.get(rate)!.reduce((sum, round) => sum + round.get(name)!.non2xx, 0);
      const cells = i === 0 ? ['—', '—', paced.get(rate)!.map((round) => `(${round.get(name)!.p99})`).join(' / ')] : [ms(median(added(rate, name, 'p50'))), addedP99(rate, name), added(rate, name, 'p99').map(ms).join(' / ')];
      return `| ${name} | ${rate} | ${r.p50} | ${r.p99} | ${cells[0]} | ${cells[1]} | ${errors} | ${non2xx} | ${cells[2]} |`;
    }),
  ),
].join('\n');
// Throughput ratio: best round against best round, and round by round (each router round against
// the HAProxy round run right after it), whose median is the figure less at the mercy of one lucky
// or unlucky round.
const ratioPerRound = (name: string) => runs.get(name)!.map((r, i) => r.rps / runs.get(theirs.target)![i].rps);
const throughput = (label: string, r: Row) => `${label} **${median(ratioPerRound(r.target)).toFixed(2)}** median of rounds (${ratioPerRound(r.target).map((x) => x.toFixed(2)).join(' / ')}), ${(r.rps / theirs.rps).toFixed(2)} best against best`;
const summary = `Throughput against HAProxy (goals: the coalescing router ≥ 1.0, the plain router ≥ 0.8): ${throughput('plain router', ours)}; ${throughput('coalescing router', coalesced)}. P99 added over a direct call (goal ≤ 2 ms at 250 requests/s), median of ${latencyRounds} rounds: ${rates.map((rate) => `at ${rate} requests/s plain router ${addedP99(rate, targets[1].name)} ms, coalescing router ${addedP99(rate, targets[2].name)} ms, HAProxy ${addedP99(rate, targets[3].name)} ms`).join('; ')}; at saturation (c=${connections}, above) the P99s are queueing behind the slowest process and say more about throughput than about the proxy.`;
console.log(`\n${table}\n\n${pacedTable}\n\n${summary}`);
writeSection(
  values.results!,
  'router-bench',
  `## Router against HAProxy (\`npm run bench:router\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. Three service processes (blue 1.0.0, green 1.1.0,
canary 2.0.0, compiled, with deploy/local.yaml's replica settings: ${Object.entries(deployed.services.env ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}, nice ${values['backend-nice']})
behind each proxy with the same 70/25/5 split and readiness checks every 1 s (rise 2, fall 2); HAProxy 2.6
single-threaded with keep-alive to the backends; the router's rate limit is off (HAProxy has none) and its guard only reports (acting, it would take the canary out of the split under saturation); the router
runs twice, as a plain proxy and with request coalescing (npm start's ${deployed.router.config_file}: coalesce ${JSON.stringify(loadRouterConfig({ ROUTER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN, ...coalescingEnv }).source.settings.coalesce)}).
Everything shares the 2 cores.

Throughput: autocannon c=${connections}, ${durationSec} s per target after a 3 s warm-up, ${values.rounds} alternating rounds; the table
shows each target's best round.

${table}

Latency added: a client that splits 70/25/5 over the backends itself (the direct call a proxy is measured
against) and the three proxies take turns in one paced open-loop schedule (request n goes to target n mod 4,
each due at its own instant, latency counted from then), ${rates.join(' and ')} requests/s to each target,
${values['latency-duration']} s per round, ${latencyRounds} rounds, after a 5 s warm-up and before the throughput runs. Taking turns means
every target lives through the same moments of this shared VM, whose scheduling hiccups move even the
direct call's P99 by tens of ms from one stretch to the next; each round's P99 is compared with the direct
split's P99 of the same round (in brackets on the direct split's row), and the table shows the median round.

${pacedTable}

${summary}`,
);
process.exit(0);
