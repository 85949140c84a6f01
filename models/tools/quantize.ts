// npm run quantize -- <bundle> <out> [--per-tensor] [--reduce-range] [--embeddings | --embeddings-only] [--data DIR]:
// dynamic int8 quantization of a bundle's graph (quantize/dynamic-int8.ts; with --embeddings its
// embedding tables too, as int8 rows: quantize/embeddings.ts; with --embeddings-only those alone,
// weights only) into a new bundle beside it, its other files copied. With the SST data (--data or SENTIMENT_DATA_DIR) it scores the new bundle on
// sst3 test through the serving code and records, in its metadata, the label agreement with the
// original and both accuracies.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLE_FILES } from '../../shared/bundle/layout.ts';
import { quantizeBundle } from './quantize/bundle.ts';
import { MIN_EMBEDDING_ROWS } from './quantize/embeddings.ts';
import { compareBundles } from './quantize/compare.ts';
import { readTsv } from './trainer/data.ts';
import { evaluationEntry, sealBundle } from './trainer/evaluate.ts';
import { json, round } from './trainer/export-bundle.ts';

const { values, positionals } = parseArgs({
  options: { 'per-tensor': { type: 'boolean', default: false }, 'reduce-range': { type: 'boolean', default: false }, embeddings: { type: 'boolean', default: false }, 'embeddings-only': { type: 'boolean', default: false }, data: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length !== 2) {
  console.error('usage: npm run quantize -- <bundle-dir> <out-dir> [--per-tensor] [--reduce-range] [--embeddings | --embeddings-only] [--data DIR]');
  process.exit(2);
}
const [source, out] = positionals.map((p) => path.resolve(p));
if (source === out) {
  console.error('the output folder must differ from the bundle: the original stays as it is');
  process.exit(2);
}
const started = performance.now();
const embeddingsOnly = values['embeddings-only'];
const { original, bytes, report, embeddings } = quantizeBundle(source, out, { perChannel: !values['per-tensor'], reduceRange: values['reduce-range'], dense: !embeddingsOnly, embeddings: values.embeddings || embeddingsOnly });
const seconds = (performance.now() - started) / 1000;
if (embeddingsOnly ? embeddings!.quantized.length === 0 : report.quantized.length === 0) {
  console.error(embeddingsOnly ? `${source}: no embedding table (a constant of ${MIN_EMBEDDING_ROWS} rows or more read only by Gather) to quantize` : `${source}: no MatMul or Gemm with a constant weight to quantize (${report.skipped.length} skipped)`);
  process.exit(1);
}
console.log(`${out}: ${embeddingsOnly ? `${embeddings!.quantized.length} embedding tables as int8 rows` : `${report.quantized.length} ops quantized${embeddings ? ` and ${embeddings.quantized.length} embedding tables` : ''}`} in ${seconds.toFixed(1)} s${embeddingsOnly ? '' : ` (${report.skipped.length} left float: activation × activation products)`}; model ${(original.length / 1e6).toFixed(1)} → ${(bytes.length / 1e6).toFixed(1)} MB`);

const metadataFile = path.join(out, BUNDLE_FILES.metadata);
const metadata = fs.existsSync(metadataFile) ? JSON.parse(fs.readFileSync(metadataFile, 'utf8')) : {};
const sourceVersion = metadata.version;
Object.assign(metadata, {
  version: path.basename(out),
  description: `${metadata.description ?? ''} ${embeddingsOnly ? 'Embedding tables stored as int8 rows (weights only)' : `Weights quantized to int8 (dynamic quantization of ${report.quantized.length} MatMul/Gemm ops, ${values['per-tensor'] ? 'per tensor' : 'per output channel'}${embeddings && embeddings.quantized.length > 0 ? ', and its embedding tables as int8 rows' : ''})`} from ${sourceVersion ?? path.basename(source)}.`.trim(),
  quantization: {
    method: embeddingsOnly ? 'weights only: embedding tables as int8 rows' : 'dynamic int8: DynamicQuantizeMatMul (com.microsoft), symmetric int8 weights, uint8 activations quantized at run time',
    ...(embeddingsOnly ? {} : { per_channel: !values['per-tensor'], reduce_range: values['reduce-range'] }),
    quantized_ops: report.quantized.length,
    ...(embeddings ? { embeddings: { method: 'int8 rows, one symmetric scale per row, scaled back after the Gather', tables: embeddings.quantized, bytes: { before: embeddings.bytesBefore, after: embeddings.bytesAfter } } } : {}),
    skipped_ops: report.skipped.length,
    weight_bytes: { before: report.weightBytesBefore, after: report.weightBytesAfter },
    model_bytes: { before: original.length, after: bytes.length },
    source: { version: sourceVersion, sha256: createHash('sha256').update(original).digest('hex') },
  },
});
// The original's test scores do not hold for the new graph: replaced when measured, else dropped.
delete metadata.metrics?.test;

const dataDir = values.data ?? process.env.SENTIMENT_DATA_DIR;
if (dataDir) {
  const comparison = await compareBundles(source, out, readTsv(path.join(dataDir, 'sst3/test.tsv')));
  metadata.metrics = { ...metadata.metrics, test: evaluationEntry('sst3/test.tsv', comparison.quantized) };
  metadata.quantization.agreement = { dataset: 'sst3/test.tsv', label_agreement: round(comparison.agreement), accuracy_before: round(comparison.original.accuracy), accuracy_after: round(comparison.quantized.accuracy) };
  console.log(`sst3 test: label agreement ${(comparison.agreement * 100).toFixed(2)}%, accuracy ${(comparison.original.accuracy * 100).toFixed(2)}% → ${(comparison.quantized.accuracy * 100).toFixed(2)}%`);
} else {
  console.log('set SENTIMENT_DATA_DIR (or --data) to score it on sst3 test and record its agreement with the original');
}
fs.writeFileSync(metadataFile, json(metadata));
await sealBundle(out, dataDir, { parent: sourceVersion ?? null });
