// Runs one padded batch through onnxruntime and returns a probability row per text.
// onnxruntime-node's run() executes off the JS thread, so the event loop keeps serving.
import ort from 'onnxruntime-node';
import type { BatchArrays } from './text-encoder.ts';

export const SUPPORTED_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export type ModelInput = (typeof SUPPORTED_INPUTS)[number];
export type OutputKind = 'logits' | 'probabilities';

export function softmaxInPlace(row: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    row[i] = Math.exp(row[i] - max);
    sum += row[i];
  }
  for (let i = 0; i < row.length; i++) row[i] /= sum;
  return row;
}

export class Classifier {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputs: readonly ModelInput[],
    private readonly outputName: string,
    private readonly outputKind: OutputKind,
  ) {}

  async run(batch: BatchArrays): Promise<Float32Array[]> {
    const dims = [batch.batch, batch.sequence];
    const arrays: Record<ModelInput, BigInt64Array> = {
      input_ids: batch.inputIds,
      attention_mask: batch.attentionMask,
      token_type_ids: batch.tokenTypeIds,
    };
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputs) feeds[name] = new ort.Tensor('int64', arrays[name], dims);
    const result = await this.session.run(feeds, [this.outputName]);
    const out = result[this.outputName];
    const width = out.dims[out.dims.length - 1];
    const data = out.data as Float32Array;
    const rows: Float32Array[] = [];
    for (let b = 0; b < batch.batch; b++) {
      const row = data.slice(b * width, (b + 1) * width);
      rows.push(this.outputKind === 'logits' ? softmaxInPlace(row) : row);
    }
    out.dispose();
    return rows;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
