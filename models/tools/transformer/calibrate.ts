// A decision threshold for neutral, chosen on dev: the offset added to the neutral logit that gives
// the best dev accuracy among those with at least `minRecall` neutral recall on dev (ties: the
// smallest shift). It is written into the graph itself (the bias of the layer that produces the
// logits), so the bundle stays a plain export that any runtime serves the same way.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { EncodedSplit } from './prepare.ts';

const { onnx } = onnxProto;

export interface Calibration {
  bytes: Uint8Array;
  offset: number;
  dev: { accuracy: number; neutralRecall: number; argmaxAccuracy: number; argmaxNeutralRecall: number };
}

async function devLogits(modelBytes: Uint8Array, dev: EncodedSplit, padId: number): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(modelBytes, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  const rows: Float32Array[] = [];
  try {
    for (let i = 0; i < dev.ids.length; i += 64) {
      const batch = dev.ids.slice(i, i + 64);
      const longest = Math.max(...batch.map((r) => r.length));
      const ids = new BigInt64Array(batch.length * longest).fill(BigInt(padId));
      const mask = new BigInt64Array(batch.length * longest);
      batch.forEach((r, b) => r.forEach((id, k) => ((ids[b * longest + k] = BigInt(id)), (mask[b * longest + k] = 1n))));
      const dims = [batch.length, longest];
      const out = await session.run({ input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims), token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), dims) });
      const logits = out.logits.data as Float32Array;
      const width = logits.length / batch.length;
      for (let b = 0; b < batch.length; b++) rows.push(logits.slice(b * width, (b + 1) * width));
    }
  } finally {
    await session.release();
  }
  return rows;
}

function score(logits: Float32Array[], labels: number[], neutral: number, offset: number) {
  let correct = 0;
  let neutralHits = 0;
  let neutralTotal = 0;
  logits.forEach((row, i) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c] + (c === neutral ? offset : 0) > row[best] + (best === neutral ? offset : 0)) best = c;
    if (best === labels[i]) correct++;
    if (labels[i] === neutral) {
      neutralTotal++;
      if (best === neutral) neutralHits++;
    }
  });
  return { accuracy: correct / labels.length, neutralRecall: neutralHits / Math.max(1, neutralTotal) };
}

export async function calibrateNeutral(modelBytes: Uint8Array, dev: EncodedSplit, padId: number, neutral: number, minRecall: number): Promise<Calibration> {
  const logits = await devLogits(modelBytes, dev, padId);
  const argmax = score(logits, dev.labels, neutral, 0);
  const candidates = [];
  for (let step = -20; step <= 80; step++) candidates.push({ offset: step / 20, ...score(logits, dev.labels, neutral, step / 20) });
  // No offset reaching the recall: the plain argmax stays.
  const eligible = candidates.filter((c) => c.neutralRecall >= minRecall);
  const pool = eligible.length > 0 ? eligible : [{ offset: 0, ...argmax }];
  let best = pool[0];
  for (const c of pool) if (c.accuracy > best.accuracy || (c.accuracy === best.accuracy && Math.abs(c.offset) < Math.abs(best.offset))) best = c;
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const output = graph.output![0].name!;
  const last = graph.node!.find((n) => n.output?.includes(output));
  const biasName = last && (last.opType === 'Gemm' ? last.input![2] : last.opType === 'Add' ? last.input!.find((i) => graph.initializer!.some((t) => t.name === i)) : undefined);
  const bias = graph.initializer!.find((t) => t.name === biasName);
  if (!bias) throw new Error(`the logits' last node (${last?.opType ?? 'none'}) has no constant bias to calibrate`);
  const values = bias.rawData && bias.rawData.length > 0 ? new Float32Array(new Uint8Array(bias.rawData).buffer) : Float32Array.from(bias.floatData ?? []);
  values[neutral] += best.offset;
  bias.rawData = new Uint8Array(values.buffer);
  bias.floatData = [];
  return { bytes: onnx.ModelProto.encode(model).finish(), offset: best.offset, dev: { accuracy: best.accuracy, neutralRecall: best.neutralRecall, argmaxAccuracy: argmax.accuracy, argmaxNeutralRecall: argmax.neutralRecall } };
}
