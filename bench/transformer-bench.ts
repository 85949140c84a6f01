// Transformer serving, against the limit and the seed. Models: the shipped sentiment 2.0.0 (the
// BERT-architecture encoder trained here) in fp32 and int8, and a DistilBERT-shaped encoder
// (6 layers × 768, 12 heads, 3072, vocabulary 30,522; random weights exported at bench time with
// python3-torch, never committed) in fp32 and int8: the compute of a real fine-tuned DistilBERT.
//  1. The limit: raw onnxruntime-node with the replica's layout (its sessions side by side in
//     worker threads), sequences per second on the sst3 test sentences at batch 1/8/16/32 in
//     arrival order and sorted by length; and the seed's path (fp32, padded to 128, batch 1).
//  2. Served: the highest paced (open-loop) request rate with P95 < 100 ms, one text per request
//     drawn from sst3 test, straight to one replica and through the router, with CPU per request;
//     and the replica saturated (closed loop) against raw batches of the size it formed.
// Compiled code, as npm start runs it. Writes bench/RESULTS.md.
//   npm run bench:transformer -- [--data DIR] [--models 2.0.0,2.0.0-int8,distilbert,distilbert-int8] (or any shipped version)
//       [--probe-seconds 8] [--workers 2] [--intra-threads 1] [--split-cost 64] [--spinning true] [--coalesce 32]
//       [--python /usr/bin/python3]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { Pool } from 'undici';
import { quantizeBundle } from '../models/tools/quantize/bundle.ts';
import { dataDir, readTsv } from '../models/tools/trainer/data.ts';
import { startWorker } from '../shared/worker-thread.ts';
import { buildDist } from './lib/build.ts';
import { runClosedLoop } from './lib/closed-loop.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { runPaced } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import type { RawCell, RawWorkerData } from './lib/raw-onnx-worker.ts';
import { writeSection } from './lib/results-file.ts';
import { metricSum } from '../testkit/metrics-text.ts';
import { BUILT_SERVICE_ENTRY, ROOT, startProcess, type RunningProcess } from '../testkit/processes.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    models: { type: 'string', default: '2.0.0,2.0.0-int8,distilbert,distilbert-int8' },
    'probe-seconds': { type: 'string', default: '8' },
    'intra-threads': { type: 'string', default: '1' },
    workers: { type: 'string', default: '2', description: "the replica's INFERENCE_WORKERS (sessions running batches side by side)" },
    'split-cost': { type: 'string', default: '64' },
    'raw-seconds': { type: 'string', default: '6' },
    spinning: { type: 'string', default: 'true', description: "the replica's ORT_SPINNING" },
    coalesce: { type: 'string', default: '32', description: "the router's ROUTER_COALESCE_MAX_BATCH (0: off)" },
    'replica-nice': { type: 'string', default: '10', description: "the replica's scheduling niceness, every thread (npm start's services.nice)" },
    python: { type: 'string', default: '/usr/bin/python3' },
    results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
  },
});
const probeSec = Number(values['probe-seconds']);
const rawSec = Number(values['raw-seconds']);
const threads = Number(values['intra-threads']);
const workers = Number(values.workers);
const texts = readTsv(path.join(dataDir(values.data), 'sst3/test.tsv')).map((e) => e.text);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'transformer-bench-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const SHIPPED = path.join(ROOT, 'models/sentiment/2.0.0');

buildDist();

/** A bundle folder per model name: the shipped one, or one made here. */
function bundleFor(name: string): string {
  const dir = path.join(work, name);
  if (name === '2.0.0') return SHIPPED;
  // Any other shipped version by its number (the 3.0.0 ensemble, say).
  if (/^\d+\.\d+\.\d+$/.test(name) && fs.existsSync(path.join(ROOT, 'models/sentiment', name, 'model.onnx'))) return path.join(ROOT, 'models/sentiment', name);
  if (name.endsWith('-int8')) {
    quantizeBundle(bundleFor(name.slice(0, -'-int8'.length)), dir);
    return dir;
  }
  if (name === 'distilbert') {
    fs.mkdirSync(dir, { recursive: true });
    const shape = path.join(work, 'shape.json');
    fs.writeFileSync(shape, JSON.stringify({ vocab_size: 30522, max_length: 128, labels: ['negative', 'neutral', 'positive'] }));
    const run = spawnSync(values.python, [path.join(ROOT, 'models/tools/transformer/train.py'), '--untrained', '--data', shape, '--out', path.join(dir, 'model.onnx'), '--report', path.join(work, 'distil.json'), '--layers', '6', '--hidden', '768', '--heads', '12', '--ffn', '3072'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) throw new Error(`the DistilBERT-shaped graph needs Debian's python3-torch (${values.python} exited ${run.status})`);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(SHIPPED, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', max_position_embeddings: 128, vocab_size: 30522, id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' } }));
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ name: 'distilbert-shaped', version: 'random', description: 'random weights: speed only' }));
    return dir;
  }
  throw new Error(`unknown model ${name}`);
}

interface RawRow {
  batch: number;
  order: 'arrival' | 'by length' | 'padded to 128';
  seqPerSec: number;
}

/** A raw session in a worker thread (bench/lib/raw-onnx-worker.ts), ready to measure. */
function rawWorker(data: RawWorkerData): Promise<Worker> {
  const worker = startWorker(new URL('./lib/raw-onnx-worker.ts', import.meta.url), data);
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  });
}

/**
 * Sequences per second through raw onnxruntime-node, laid out as the replica runs it: `workers`
 * sessions of `threads` intra-op threads, each in its own thread, running side by side.
 */
async function rawLimit(dir: string, fp32: boolean): Promise<RawRow[]> {
  const pool = await Promise.all(Array.from({ length: workers }, () => rawWorker({ dir, threads, texts })));
  const measure = async (cell: Omit<RawCell, 'seconds'>) => {
    const rates = await Promise.all(
      pool.map(
        (w) =>
          new Promise<number>((resolve) => {
            w.once('message', resolve);
            w.postMessage({ ...cell, seconds: rawSec } satisfies RawCell);
          }),
      ),
    );
    return Math.round(rates.reduce((a, b) => a + b, 0) * 10) / 10;
  };
  const rows: RawRow[] = [];
  if (fp32) rows.push({ batch: 1, order: 'padded to 128', seqPerSec: await measure({ size: 1, sorted: false, padTo: 128 }) });
  for (const size of [1, 8, 16, 32]) {
    rows.push({ batch: size, order: 'arrival', seqPerSec: await measure({ size, sorted: false }) });
    // Sorted over the whole set: the most a length-aware batcher could gain.
    if (size > 1) rows.push({ batch: size, order: 'by length', seqPerSec: await measure({ size, sorted: true }) });
  }
  await Promise.all(
    pool.map(
      (w) =>
        new Promise((resolve) => {
          w.once('exit', resolve);
          w.postMessage('close');
        }),
    ),
  );
  return rows;
}

interface Served {
  rate: number;
  p50: number;
  p95: number;
  p99: number;
  cpuMsPerRequest: number;
}

/** The highest paced rate whose P95 stays under 100 ms (bisection), and what it cost. */
async function maxRate(url: string, pids: number[], start: number): Promise<Served | undefined> {
  const bodies = texts.map((text) => JSON.stringify({ text }));
  let lo = 0;
  let hi = Infinity;
  let best: Served | undefined;
  let rate = Math.max(2, Math.round(start));
  // Warm-up at half the first rate, not counted: a cold first probe would bound the search too low.
  await runPaced({ targets: [{ name: 'x', upstreams: [{ url, weight: 1 }] }], path: '/predict', body: bodies, connections: 64, durationSec: Math.min(3, probeSec), rate: Math.max(2, Math.round(rate / 2)) });
  for (let probe = 0; probe < 8; probe++) {
    const cpu = pids.map(cpuSeconds);
    const result = (await runPaced({ targets: [{ name: 'x', upstreams: [{ url, weight: 1 }] }], path: '/predict', body: bodies, connections: 64, durationSec: probeSec, rate })).get('x')!;
    const cpuMsPerRequest = Math.round((pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu[i], 0) / Math.max(1, result.requests)) * 1e4) / 10;
    const ok = result.p95 < 100 && result.errors === 0 && result.non2xx === 0;
    console.log(JSON.stringify({ url, rate, ok, ...result, cpuMsPerRequest }));
    if (ok) {
      lo = rate;
      best = { rate, p50: result.p50, p95: result.p95, p99: result.p99, cpuMsPerRequest };
    } else hi = rate;
    if (hi - lo <= Math.max(2, lo * 0.05)) break;
    rate = Math.max(2, Math.round(hi === Infinity ? rate * 1.5 : (lo + hi) / 2));
  }
  return best;
}

/** The total of a Prometheus counter on a replica's /metrics. */
async function counter(url: string, name: string): Promise<number> {
  return metricSum(await (await fetch(`${url}/metrics`)).text(), name);
}

/**
 * The service saturated: a closed loop of 64 callers (latency unbounded), requests per second
 * and the mean texts per onnxruntime call it formed, to hold against raw batches of that size.
 */
async function saturated(url: string): Promise<{ rps: number; textsPerCall: number }> {
  const pool = new Pool(url, { connections: 64 });
  let next = 0;
  const send = async () => {
    const res = await pool.request({ path: '/predict', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: texts[next++ % texts.length] }) });
    await res.body.dump();
    return res.statusCode === 200;
  };
  await runClosedLoop(send, 64, Math.min(3, probeSec)); // warm-up
  const calls = await counter(url, 'inference_duration_seconds_count');
  const result = await runClosedLoop(send, 64, probeSec);
  const textsPerCall = result.requests / Math.max(1, (await counter(url, 'inference_duration_seconds_count')) - calls);
  await pool.close();
  console.log(JSON.stringify({ url, saturated: result, textsPerCall }));
  return { rps: result.rps, textsPerCall: Math.round(textsPerCall * 10) / 10 };
}

const serviceEnv = {
  INFERENCE_WORKERS: values.workers,
  ORT_INTRA_OP_THREADS: String(threads),
  BATCH_MAX_SIZE: '32',
  BATCH_MAX_WAIT_MS: '2',
  BATCH_SPLIT_COST_TOKENS: values['split-cost'],
  ORT_SPINNING: values.spinning,
};

const rawTables: string[] = [];
const servedRows: string[] = [];
const saturatedRows: string[] = [];
for (const name of values.models.split(',')) {
  const dir = bundleFor(name);
  const raw = await rawLimit(dir, !name.endsWith('-int8'));
  console.log(name, JSON.stringify(raw));
  const cell = (batch: number, order: RawRow['order']) => raw.find((r) => r.batch === batch && r.order === order)?.seqPerSec ?? '—';
  rawTables.push(`| ${name} | ${cell(1, 'padded to 128')} | ${cell(1, 'arrival')} | ${cell(8, 'arrival')} / ${cell(8, 'by length')} | ${cell(16, 'arrival')} / ${cell(16, 'by length')} | ${cell(32, 'arrival')} / ${cell(32, 'by length')} |`);
  const bestRaw = Math.max(...raw.filter((r) => r.order !== 'padded to 128').map((r) => r.seqPerSec));

  const replica = await startProcess({ ...serviceEnv, MODEL_DIR: dir }, BUILT_SERVICE_ENTRY, 120_000);
  // As npm start runs replicas: below the router, so the one process every request passes through
  // is not preempted by onnxruntime. Every thread (workers and onnxruntime's exist by now).
  for (const tid of fs.readdirSync(`/proc/${replica.proc.pid}/task`)) os.setPriority(Number(tid), Number(values['replica-nice']));
  const procs: RunningProcess[] = [replica];
  try {
    const weights = path.join(work, `weights-${name}.yaml`);
    fs.writeFileSync(weights, `environments:\n  canary: { weight: 100, replicas: [${replica.url}] }\n`);
    const router = await startProcess({ ROUTER_WEIGHTS_FILE: weights, ROUTER_ADMIN_TOKEN: 'transformer-bench-token-0123456789', ROUTER_PORT: '0', ROUTER_RATE_LIMIT_MAX: '0', ROUTER_COALESCE_MAX_BATCH: values.coalesce, ROUTER_HEALTH_INTERVAL_MS: '1000' }, path.join(ROOT, 'dist/router/src/server.js'));
    procs.push(router);
    for (let i = 0; i < 100 && !(await fetch(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"warm up"}' }).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const direct = await maxRate(replica.url, [replica.proc.pid!], bestRaw * 0.7);
    const routed = await maxRate(router.url, [replica.proc.pid!, router.proc.pid!], (direct?.rate ?? bestRaw * 0.5) * 0.9);
    const full = await saturated(replica.url);
    // Raw batches nearest in size to the service's calls.
    const near = [1, 8, 16, 32].reduce((a, b) => (Math.abs(b - full.textsPerCall) < Math.abs(a - full.textsPerCall) ? b : a));
    const rawArrival = raw.find((r) => r.batch === near && r.order === 'arrival')!.seqPerSec;
    const rawSorted = raw.find((r) => r.batch === near && r.order === (near === 1 ? 'arrival' : 'by length'))!.seqPerSec;
    saturatedRows.push(`| ${name} | ${full.rps} | ${full.textsPerCall} | ${near}: ${rawArrival} / ${rawSorted} | ${Math.round((100 * full.rps) / rawArrival)}% / ${Math.round((100 * full.rps) / rawSorted)}% |`);
    for (const [via, r] of [['service', direct], ['router → service', routed]] as const) {
      servedRows.push(r ? `| ${name} | ${via} | ${r.rate} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.cpuMsPerRequest} | ${Math.round((100 * r.rate) / bestRaw)}% |` : `| ${name} | ${via} | < 2 | — | — | — | — | — |`);
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

const markdown = `## Transformer serving (\`npm run bench:transformer\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. Texts: the ${texts.length} sst3 test sentences (word pieces per text: the
tokenizer of the shipped bundles). 2.0.0 is the shipped BERT-architecture encoder trained here; "distilbert" is an encoder of
DistilBERT's shape (6 × 768, 12 heads, 3072, vocabulary 30,522, 66 M parameters) with random weights, the compute of a real
fine-tuned DistilBERT; "-int8" is \`npm run quantize\` of it (DynamicQuantizeMatMul, per-channel int8 weights).

The limit: raw onnxruntime-node laid out as the replica runs it (${workers === 1 ? 'one session' : `${workers} sessions side by side, each in its own thread`}, ${threads} intra-op thread${threads === 1 ? '' : 's'}${workers === 1 ? '' : ' each'}),
sequences per second${workers === 1 ? '' : ' (all sessions together)'}, ${rawSec} s per cell; batches of consecutive test sentences in arrival order / the same sentences sorted by
length (what length-aware batching can reach). The seed's path: fp32, every text padded to 128 tokens, one text per run.

| model | seed's path (128, batch 1) | batch 1 | batch 8 (arrival / by length) | batch 16 | batch 32 |
| --- | ---: | ---: | ---: | ---: | ---: |
${rawTables.join('\n')}

Served: the highest paced request rate (open loop, one sentence per \`POST /predict\`, drawn in turn from sst3 test; ${probeSec} s
per probe, bisection) with P95 < 100 ms, no error and no non-2xx, straight to one replica and through the router
(${values.coalesce === '0' ? 'coalescing off' : `coalescing up to ${values.coalesce}`}). The replica: ${workers === 1 ? 'one inference worker' : `${workers} inference workers`}, ${threads} onnxruntime thread${threads === 1 ? '' : 's'}${workers === 1 ? '' : ' each'}, batches up to 32 waiting at most 2 ms,
length-aware splitting at ${values['split-cost']} tokens per call, onnxruntime's thread spinning ${values.spinning === 'false' ? 'off' : 'on'}. CPU per request: the replica, plus the router through it. Load
generator, router and replica share the 2 cores${values['replica-nice'] === '0' ? '' : `, the replica at nice ${values['replica-nice']} as npm start runs replicas`}. "of raw" compares with the best raw rate above.

| model | path | req/s at P95 < 100 ms | P50 ms | P95 ms | P99 ms | CPU ms/request | of raw |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${servedRows.join('\n')}

The service saturated (a closed loop of 64 callers, latency unbounded, ${probeSec} s): what the serving path (HTTP, tokenizing,
batching, worker threads) costs against raw onnxruntime at the batch size the service formed. "texts per call": requests
÷ onnxruntime calls in that run; raw: the measured batch size nearest to it, arrival order / sorted by length.

| model | service req/s | texts per call | raw seq/s (batch: arrival / by length) | service ÷ raw (arrival / by length) |
| --- | ---: | ---: | ---: | ---: |
${saturatedRows.join('\n')}
`;
console.log(markdown);
writeSection(values.results, 'transformer-bench', markdown);
