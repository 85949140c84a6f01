// The router with the node flags it ships with (shared/runtime/node-flags.ts) against the same
// router on V8's defaults: both with npm start's router settings file (coalescing, warm-up; --plain:
// none, a plain proxy), rate limit off, in front of the same three service processes (blue
// 1.0.0, green 1.1.0, canary 2.0.0, deploy/local.yaml's replica settings), taking turns with a
// client that splits 70/25/5 itself in one paced open-loop schedule (bench/lib/load.ts runPaced),
// so all three see the same moments of the machine. Per round: P50/P99 added over the direct
// split, the router's CPU per request, and its garbage collections (its own
// nodejs_gc_duration_seconds). Writes bench/RESULTS.md.
// --also adds a router on other flags to the same schedule (the shipped set less the flag in
// question, say), named by them; --also-env a router on the shipped flags with other settings
// (ROUTER_* variables over the settings file: "ROUTER_COALESCE_LIGHT_REQUESTS=0"). --section
// names the RESULTS.md section written (router-flags).
//   npm run bench:router-flags -- [--rate 250] [--rounds 4] [--duration 15] [--also="<flags>"]...
//                                 [--also-env="<NAME=value ...>"]... [--plain] [--section router-flags]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runPaced } from './lib/load.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { describeMachine } from './lib/machine.ts';
import { buildDist } from './lib/build.ts';
import { writeSection } from './lib/results-file.ts';
import { median } from './lib/stats.ts';
import { readDeployment } from '../launcher/index.ts';
import { nodeFlags } from '../shared/runtime/node-flags.ts';
import { metricSeries } from '../testkit/metrics-text.ts';
import { ROOT, startProcess, type RunningProcess } from '../testkit/processes.ts';
import { BENCH_ADMIN_TOKEN, benchRouterEnv, startSplitBackends } from './lib/split-backends.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '250' },
    rounds: { type: 'string', default: '4' },
    duration: { type: 'string', default: '15' },
    also: { type: 'string', multiple: true, default: [] },
    'also-env': { type: 'string', multiple: true, default: [] },
    section: { type: 'string', default: 'router-flags' },
    plain: { type: 'boolean', default: false },
    results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
  },
});
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const durationSec = Number(values.duration);
const body = JSON.stringify({ text: "it 's a charming and often affecting journey , even if the plot is predictable ." });
buildDist();

const deployed = readDeployment(path.join(ROOT, 'deploy', 'local.yaml'));
const procs: RunningProcess[] = [];
const cleanup = async () => Promise.all(procs.map((p) => p.stop()));
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const { backends, weightsFile } = await startSplitBackends(deployed.services.env, deployed.services.nice ?? 0, procs, 'router-flags-');

const shipped = nodeFlags('router/src/server');
// The routers behave as npm start's does (its settings file), unless --plain.
const settingsFile = values.plain || !deployed.router.config_file ? undefined : deployed.router.config_file;
const settingsEnv: Record<string, string> = settingsFile ? { ROUTER_CONFIG_FILE: path.resolve(ROOT, settingsFile), ...deployed.router.env } : {};
/** "NAME=value NAME2=value2" as variables. */
const settingsOf = (spec: string): Record<string, string> =>
  Object.fromEntries(
    spec.split(/\s+/).filter(Boolean).map((pair) => {
      const i = pair.indexOf('=');
      if (i < 1) throw new Error(`--also-env: expected NAME=value, got ${pair}`);
      return [pair.slice(0, i), pair.slice(i + 1)];
    }),
  );
const variants: { name: string; flags: readonly string[]; env?: Record<string, string> }[] = [
  { name: `as shipped (${shipped.join(' ') || 'no flags'})`, flags: shipped },
  { name: "V8's defaults", flags: [] },
  ...values.also!.map((flags) => ({ name: flags.trim() || 'no flags', flags: flags.split(/\s+/).filter(Boolean) })),
  ...values['also-env']!.map((spec) => ({ name: `as shipped, ${spec.trim()}`, flags: shipped, env: settingsOf(spec) })),
];
const routers: RunningProcess[] = [];
for (const v of variants) {
  const env = { ...settingsEnv, ...benchRouterEnv(weightsFile), ...v.env };
  const r = await startProcess(env, path.join(ROOT, 'dist/router/src/server.js'), 60_000, v.flags);
  procs.push(r);
  routers.push(r);
}

/** The router's collections so far, by kind: [count, seconds]. */
async function collections(r: RunningProcess): Promise<Map<string, [number, number]>> {
  const text = await (await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } })).text();
  const out = new Map<string, [number, number]>();
  (['count', 'sum'] as const).forEach((part, i) => {
    for (const { labels, value } of metricSeries(text, `nodejs_gc_duration_seconds_${part}`)) {
      const entry = out.get(labels.kind) ?? [0, 0];
      entry[i] = value;
      out.set(labels.kind, entry);
    }
  });
  return out;
}

const DIRECT = 'direct, the client splitting 70/25/5';
const targets = [{ name: DIRECT, upstreams: backends.map((b) => ({ url: b.url, weight: b.weight })) }, ...variants.map((v, i) => ({ name: v.name, upstreams: [{ url: routers[i].url, weight: 1 }] }))];
interface Row { round: number; name: string; p50: number; p99: number; p50Added: number; p99Added: number; cpuUs: number; minor: number; minorMs: number; major: number; majorMs: number }
const rows: Row[] = [];
try {
  await new Promise((r) => setTimeout(r, 3000)); // first health checks
  // Each router ready: past its own warm-up, when its settings ask for one.
  for (const r of routers) {
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${r.url}/health/ready`).then((res) => res.status, () => 0)) !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await runPaced({ targets, path: '/predict', body, connections: 50, durationSec: 5, rate }); // warm-up, not recorded
  for (let round = 1; round <= rounds; round++) {
    const cpu0 = routers.map((r) => cpuSeconds(r.proc.pid!));
    const gc0 = await Promise.all(routers.map(collections));
    const result = await runPaced({ targets, path: '/predict', body, connections: 50, durationSec, rate });
    const gc1 = await Promise.all(routers.map(collections));
    const direct = result.get(DIRECT)!;
    variants.forEach((v, i) => {
      const r = result.get(v.name)!;
      const delta = (kind: string) => {
        const [c0, s0] = gc0[i].get(kind) ?? [0, 0];
        const [c1, s1] = gc1[i].get(kind) ?? [0, 0];
        return [c1 - c0, (s1 - s0) * 1000] as const;
      };
      const [minor, minorMs] = delta('minor');
      const [major, majorMs] = delta('major');
      const row = { round, name: v.name, p50: r.p50, p99: r.p99, p50Added: r.p50 - direct.p50, p99Added: r.p99 - direct.p99, cpuUs: ((cpuSeconds(routers[i].proc.pid!) - cpu0[i]) / r.requests) * 1e6, minor, minorMs, major, majorMs };
      console.log(JSON.stringify(row));
      rows.push(row);
    });
  }
} finally {
  await cleanup();
}

const f = (x: number, d = 2) => x.toFixed(d);
const table = [
  '| router | rounds | P50 added ms | P99 added ms | router CPU µs/request | minor GCs per round | ms per minor GC | major GCs per round | ms per major GC | P99 added per round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...variants.map((v) => {
    const mine = rows.filter((r) => r.name === v.name);
    const sum = (k: keyof Row) => mine.reduce((a, r) => a + (r[k] as number), 0);
    return `| ${v.name} | ${mine.length} | ${f(median(mine.map((r) => r.p50Added)))} | ${f(median(mine.map((r) => r.p99Added)))} | ${Math.round(median(mine.map((r) => r.cpuUs)))} | ${f(sum('minor') / mine.length, 1)} | ${f(sum('minorMs') / Math.max(1, sum('minor')))} | ${f(sum('major') / mine.length, 1)} | ${sum('major') ? f(sum('majorMs') / sum('major')) : '—'} | ${mine.map((r) => f(r.p99Added)).join(' / ')} |`;
  }),
].join('\n');
console.log(`\n${table}`);
writeSection(
  values.results!,
  values.section!,
  `## The router's node flags${values['also-env']!.length ? ' and settings' : ''} (\`npm run bench:router-flags${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. The router as it ships (${shipped.join(' ') || 'no flags'}, from
shared/runtime/node-flags.ts) and the same build on V8's defaults${values.also!.length ? ` and on ${values.also!.map((f) => `\`${f.trim()}\``).join(', ')}` : ''}${values['also-env']!.length ? `, and as shipped with ${values['also-env']!.map((e) => `\`${e.trim()}\``).join(', ')}` : ''}, all ${settingsFile ? `with npm start's ${settingsFile} (coalescing, warm-up)` : 'plain proxies'} (rate limit off, guard reporting only) in front of the same
three service processes (blue 1.0.0, green 1.1.0, canary 2.0.0, deploy/local.yaml's replica settings). They and a client
that splits 70/25/5 itself take turns in one paced open-loop schedule, ${rate} requests/s to each, ${durationSec} s per round,
${rounds} rounds after a 5 s warm-up; "added" is a round's percentile minus the direct split's in the same round (median of
rounds). Garbage collections are the router's own (\`nodejs_gc_duration_seconds\`), per round.

${table}`,
);
process.exit(0);
