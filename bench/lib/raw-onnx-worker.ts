// One raw onnxruntime-node session in a worker thread, for bench/transformer-bench.ts: as many
// batches of the given texts as fit in the given time, sequences per second. Several of these side
// by side measure the limit of a replica that runs several sessions (INFERENCE_WORKERS).
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { loadBundle } from '../../services/inference/index.ts';
import { BUNDLE_FILES } from '../../shared/bundle/layout.ts';

export interface RawWorkerData {
  dir: string;
  threads: number;
  texts: string[];
}

/** One cell: batches of `size` consecutive texts (sorted by length or not), padded to `padTo` if set. */
export interface RawCell {
  size: number;
  sorted: boolean;
  padTo?: number;
  seconds: number;
}

const { dir, threads, texts } = workerData as RawWorkerData;
const bundle = await loadBundle(dir, { workers: 0, intraOpThreads: 1, interOpThreads: 1 });
await bundle.classifier.release();
const session = await ort.InferenceSession.create(path.join(dir, BUNDLE_FILES.model), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const encoded = texts.map((t) => bundle.encoder.encode(t));
const byLength = [...encoded].sort((a, b) => a.ids.length - b.ids.length);

async function run(rows: typeof encoded, padTo?: number) {
  let { inputIds, attentionMask, tokenTypeIds, sequence } = bundle.encoder.pad(rows);
  if (padTo) {
    const widen = (a: BigInt64Array) => {
      const out = new BigInt64Array(padTo * rows.length);
      for (let b = 0; b < rows.length; b++) out.set(a.subarray(b * sequence, (b + 1) * sequence), b * padTo);
      return out;
    };
    [inputIds, attentionMask, tokenTypeIds, sequence] = [widen(inputIds), widen(attentionMask), widen(tokenTypeIds), padTo];
  }
  const dims = [rows.length, sequence];
  await session.run({ input_ids: new ort.Tensor('int64', inputIds, dims), attention_mask: new ort.Tensor('int64', attentionMask, dims), token_type_ids: new ort.Tensor('int64', tokenTypeIds, dims) });
}

parentPort!.on('message', async (cell: RawCell | 'close') => {
  if (cell === 'close') {
    await session.release();
    return parentPort!.close();
  }
  const rows = cell.sorted ? byLength : encoded;
  await run(rows.slice(0, cell.size), cell.padTo); // warm-up
  let done = 0;
  const started = performance.now();
  for (let i = 0; performance.now() - started < cell.seconds * 1000; i = (i + cell.size) % (rows.length - cell.size)) {
    await run(rows.slice(i, i + cell.size), cell.padTo);
    done += cell.size;
  }
  parentPort!.postMessage(done / ((performance.now() - started) / 1000));
});
parentPort!.postMessage('ready');
