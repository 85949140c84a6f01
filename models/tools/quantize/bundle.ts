// A bundle's graph quantized into a new bundle folder, every other file copied as it is: what
// npm run quantize writes (and then describes in its metadata), and what the transformer benchmark
// makes of each model it measures in int8.
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE_FILES } from '../../../shared/bundle/layout.ts';
import { MANIFEST_FILE, SIGNATURE_FILE, unsealBundle } from '../../../shared/bundle/manifest.ts';
import { quantizeDynamic, type QuantizeOptions, type QuantizeReport } from './dynamic-int8.ts';
import { quantizeEmbeddings, type EmbeddingReport } from './embeddings.ts';

export interface QuantizedBundle {
  original: Buffer;
  bytes: Uint8Array;
  report: QuantizeReport;
  /** With `embeddings`: the tables stored as int8 rows. */
  embeddings?: EmbeddingReport;
}

export interface BundleQuantizeOptions extends QuantizeOptions {
  /** The dense layers (MatMul/Gemm) to DynamicQuantizeMatMul: true unless turned off. */
  dense?: boolean;
  /** The embedding tables to int8 rows. */
  embeddings?: boolean;
}

/** Writes nothing when nothing could be quantized (the reports say why). */
export function quantizeBundle(source: string, out: string, options: BundleQuantizeOptions = {}): QuantizedBundle {
  const original = fs.readFileSync(path.join(source, BUNDLE_FILES.model));
  const dynamic = options.dense === false ? { bytes: original as Uint8Array, report: { quantized: [], skipped: [], weightBytesBefore: 0, weightBytesAfter: 0 } } : quantizeDynamic(original, options);
  const { report } = dynamic;
  let { bytes } = dynamic;
  let embeddings: EmbeddingReport | undefined;
  if (options.embeddings) ({ bytes, report: embeddings } = quantizeEmbeddings(bytes));
  if (report.quantized.length > 0 || (embeddings?.quantized.length ?? 0) > 0) {
    fs.mkdirSync(out, { recursive: true });
    unsealBundle(out);
    // The source's manifest describes the source: the new bundle gets its own once sealed.
    for (const file of fs.readdirSync(source)) if (file !== BUNDLE_FILES.model && file !== MANIFEST_FILE && file !== SIGNATURE_FILE) fs.copyFileSync(path.join(source, file), path.join(out, file));
    fs.writeFileSync(path.join(out, BUNDLE_FILES.model), bytes);
  }
  return { original, bytes, report, embeddings };
}
