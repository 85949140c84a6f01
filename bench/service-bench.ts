// One inference service process under autocannon (c=50, 20 s by default): batching off, batching
// on, and a bare Fastify endpoint returning a constant prediction as the ceiling. Prints a table
// and writes it to bench/RESULTS.md.
//   npm run bench:service -- [--duration 20] [--connections 50] [--model fixture|1.1.0 ...]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad, type LoadResult } from './lib/load.ts';
import { sampleRss } from './lib/rss.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { describeMachine } from './lib/machine.ts';
import { buildDist } from './lib/build.ts';
import { writeSection } from './lib/results-file.ts';
import { BUILT_SERVICE_ENTRY, ROOT, startProcess } from '../testkit/processes.ts';
import { tempFixtureBundle } from '../testkit/bert-fixture.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    model: { type: 'string', multiple: true, default: ['fixture', '1.1.0'] },
    results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
  },
});
const durationSec = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const body = JSON.stringify({ text: "it 's a charming and often affecting journey , even if the plot is predictable ." });

interface Row extends LoadResult {
  target: string;
  rssMb: number;
  /** Server CPU (all threads) per request, in microseconds. */
  cpuUsPerRequest: number;
}

buildDist();

async function measure(target: string, env: Record<string, string>, entry = BUILT_SERVICE_ENTRY): Promise<Row> {
  const proc = await startProcess({ ...env }, entry);
  try {
    await runLoad({ url: proc.url, path: '/predict', body, connections, durationSec: Math.min(3, durationSec) }); // warm-up
    const pid = proc.proc.pid!;
    const rss = sampleRss(pid);
    const cpuBefore = cpuSeconds(pid);
    const result = await runLoad({ url: proc.url, path: '/predict', body, connections, durationSec });
    const cpuUsPerRequest = Math.round(((cpuSeconds(pid) - cpuBefore) / result.requests) * 1e6);
    const row = { target, ...result, rssMb: rss().maxMb, cpuUsPerRequest };
    console.log(JSON.stringify(row));
    return row;
  } finally {
    await proc.stop();
  }
}

interface Target {
  name: string;
  env: Record<string, string>;
  entry?: string;
}

const targets: Target[] = [];
for (const model of values.model!) {
  const bundle: Record<string, string> = model === 'fixture' ? { MODEL_DIR: await tempFixtureBundle() } : { MODELS_DIR: path.join(ROOT, 'models'), MODEL_NAME: 'sentiment', MODEL_VERSION: model };
  const label = model === 'fixture' ? 'BERT-shaped fixture' : `sentiment ${model}`;
  targets.push({ name: `${label}, batching off`, env: { ...bundle, BATCH_MAX_SIZE: '1' } });
  targets.push({ name: `${label}, batching on (32, 2 ms)`, env: { ...bundle, BATCH_MAX_SIZE: '32', BATCH_MAX_WAIT_MS: '2' } });
}
targets.push({ name: 'bare Fastify, constant prediction', env: {}, entry: path.join(ROOT, 'bench', 'bare-server.ts') });

// Targets alternate round by round, and each keeps its best round: on a shared 2-core machine the
// noise is one-sided (other work only ever slows a run down).
const runs = new Map<string, Row[]>(targets.map((t) => [t.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const target of targets) runs.get(target.name)!.push(await measure(target.name, target.env, target.entry));
}
const best = (name: string) => runs.get(name)!.reduce((a, b) => (b.rps > a.rps ? b : a));
const rows = targets.map((t) => best(t.name));
const bare = rows[rows.length - 1];
const allRps = (name: string) => runs.get(name)!.map((r) => r.rps).join(' / ');

const table = [
  '| target | rps (best) | × bare | P50 ms | P95 ms | P99 ms | errors | non-2xx | max RSS MB | server CPU µs/request | rps per round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.target} | ${r.rps} | ${(r.rps / bare.rps).toFixed(2)} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.rssMb} | ${r.cpuUsPerRequest} | ${allRps(r.target)} |`),
].join('\n');
console.log(`\n${table}`);
writeSection(
  values.results!,
  'service-bench',
  `## Inference service (\`npm run bench:service\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. autocannon in the same machine, c=${connections}, ${durationSec} s per
target after a 3 s warm-up, ${rounds} alternating rounds (the best kept, latencies from that round), POST /predict with one ${body.length}-byte sentence; the service runs compiled (as
\`npm start\` runs it) with its defaults: one inference worker thread with 1 onnxruntime thread, request logging off.

${table}`,
);
