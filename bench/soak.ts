// The soak: the shipped deployment (deploy/local.yaml, as npm start runs it) under moderate,
// steady load for SOAK_MINUTES (10), with the router's and every replica's resident memory, heap
// and event-loop lag sampled every 15 s from their /metrics. Flat lines mean no leak. Writes the
// figures and a small chart per series to docs/reliability.md.   npm run bench:soak
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { metricSamples } from '../testkit/metrics-text.ts';
import { ROOT } from '../testkit/processes.ts';
import { buildDist } from './lib/build.ts';
import { startDeployment } from './lib/deployment.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RPS = Number(process.env.SOAK_RPS ?? 500);
/** The router remembers this many recent predictions for POST /feedback (FEEDBACK_MEMORY's default): its heap grows until they are all there. */
const FEEDBACK_MEMORY = 100_000;
const SAMPLE_MS = 15_000;
const TOKEN = 'soak-admin-token-0123456789';

buildDist();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
const shipped = parse(fs.readFileSync(path.join(ROOT, 'deploy/local.yaml'), 'utf8'));
const weights = path.join(dir, 'weights.yaml');
fs.copyFileSync(path.resolve(ROOT, shipped.router.weights_file), weights);
shipped.router = { ...shipped.router, port: 0, weights_file: weights };
shipped.services = { ...shipped.services, first_port: 0 };
const deploymentFile = path.join(dir, 'local.yaml');
fs.writeFileSync(deploymentFile, stringify(shipped));
const deployment = await startDeployment({ deploymentFile, token: TOKEN, env: { RUN_DIR: path.join(dir, 'run') } });
console.log(`deployment up at ${deployment.base}; ${RPS} requests/s for ${MINUTES} min`);

interface Sample {
  at: number;
  rssMb: number;
  heapMb: number;
  lagP99Ms: number;
}
const series = new Map<string, Sample[]>();

const metric = (text: string, name: string) => metricSamples(text, name)[0] ?? Number.NaN;

async function sample(): Promise<void> {
  const replicas = (await (await request(`${deployment.base}/admin/replicas`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.json()) as { environment: string; url: string }[];
  const targets = [{ name: 'router', url: deployment.base }, ...replicas.map((r, i) => ({ name: `${r.environment} #${replicas.slice(0, i).filter((o) => o.environment === r.environment).length + 1}`, url: r.url }))];
  for (const target of targets) {
    try {
      const text = await (await request(`${target.url}/metrics`)).body.text();
      const list = series.get(target.name) ?? [];
      list.push({ at: Date.now(), rssMb: metric(text, 'process_resident_memory_bytes') / 2 ** 20, heapMb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20, lagP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000 });
      series.set(target.name, list);
    } catch {
      // a replica replaced by the autoscaler: its series simply ends
    }
  }
}

// Open-loop load at RPS, bounded in time and in requests outstanding.
const agent = new Agent({ connections: 128 });
const texts = fs.readFileSync(path.join(ROOT, 'deploy/demo/sst3-sample.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t').at(-1)!);
const counts = { sent: 0, ok: 0, failed: 0 };
let outstanding = 0;
const started = Date.now();
const end = started + MINUTES * 60_000;
await sample();
let nextSample = Date.now() + SAMPLE_MS;
while (Date.now() < end) {
  const due = Math.floor(((Date.now() - started) / 1000) * RPS);
  while (counts.sent < due && outstanding < 2000) {
    const text = texts[counts.sent % texts.length];
    counts.sent++;
    outstanding++;
    request(`${deployment.base}/predict`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode === 200) counts.ok++;
        else counts.failed++;
      }, () => counts.failed++)
      .finally(() => outstanding--);
  }
  if (Date.now() >= nextSample) {
    nextSample += SAMPLE_MS;
    await sample();
  }
  await new Promise((r) => setTimeout(r, 5));
}
while (outstanding > 0) await new Promise((r) => setTimeout(r, 20));
await sample();
await agent.close();
await deployment.stop();

const BLOCKS = '▁▂▃▄▅▆▇█';
function spark(values: number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BLOCKS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BLOCKS.length - 1))]).join('');
}
const fixed = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
/**
 * The change once every bounded structure is full: from the two minutes after the router's
 * feedback memory filled (and a minute of warm-up) to the last two. Growth before that is that
 * memory filling; growth after it would be a leak.
 */
const settledAt = started + (FEEDBACK_MEMORY / RPS) * 1000 + 60_000;
function drift(samples: Sample[], pick: (s: Sample) => number): string {
  const n = Math.max(1, Math.round(120_000 / SAMPLE_MS));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const settled = samples.filter((s) => s.at >= settledAt).map(pick);
  if (settled.length < 2 * n) return 'run too short to tell';
  const change = avg(settled.slice(-n)) - avg(settled.slice(0, n));
  return `${change >= 0 ? '+' : ''}${fixed(change)} once settled`;
}

const rows = [...series.entries()].filter(([, s]) => s.length >= 3).map(([name, s]) => {
  const rss = s.map((x) => x.rssMb);
  const heap = s.map((x) => x.heapMb);
  const lag = s.map((x) => x.lagP99Ms);
  return `| ${name} | ${fixed(rss[0])} → ${fixed(rss.at(-1)!)} (max ${fixed(Math.max(...rss))}; ${drift(s, (x) => x.rssMb)}) \`${spark(rss)}\` | ${fixed(heap[0])} → ${fixed(heap.at(-1)!)} (${drift(s, (x) => x.heapMb)}) \`${spark(heap)}\` | ${fixed(Math.max(...lag))} \`${spark(lag)}\` |`;
});
const markdown = [
  `\`npm run bench:soak\` on ${new Date().toISOString().slice(0, 10)} (${describeMachine()}): deploy/local.yaml as shipped, ${RPS} requests/s open-loop for ${MINUTES} min (SST sentences), sampled every ${SAMPLE_MS / 1000} s. Sent ${counts.sent}, answered 200: ${counts.ok}, failed: ${counts.failed}.`,
  '',
  `Per process: resident memory and V8 heap in MB (first → last, and the change between the two minutes after everything bounded was full and the last two: the router remembers the last ${FEEDBACK_MEMORY.toLocaleString('en')} predictions for POST /feedback, about 100 bytes each, full after ${Math.round(FEEDBACK_MEMORY / RPS)} s at this rate), event-loop lag P99 in ms (highest sample; the first includes start-up); each chart is one sample per 15 s.`,
  '',
  '| process | RSS MB | heap used MB | event-loop lag P99 ms |',
  '| --- | --- | --- | --- |',
  ...rows,
].join('\n');
writeSection(path.join(ROOT, 'docs/reliability.md'), 'soak', markdown);
console.log(markdown);
