// Runs one padded batch through onnxruntime and returns a probability row per text.
import type { TensorData } from './session-protocol.ts';
import type { ModelSession } from './session.ts';
import type { BatchArrays } from './token-encoder.ts';

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

/** Runs batches on a pool of sessions (worker threads, or one inline), each on the least busy one. */
export class Classifier {
  private readonly busy: number[];

  constructor(
    private readonly sessions: readonly ModelSession[],
    private readonly inputs: readonly ModelInput[],
    private readonly outputName: string,
    private readonly outputKind: OutputKind,
  ) {
    this.busy = sessions.map(() => 0);
  }

  async run(batch: BatchArrays): Promise<Float32Array[]> {
    const dims = [batch.batch, batch.sequence];
    const arrays: Record<ModelInput, BigInt64Array> = {
      input_ids: batch.inputIds,
      attention_mask: batch.attentionMask,
      token_type_ids: batch.tokenTypeIds,
    };
    const feeds: Record<string, TensorData> = {};
    for (const name of this.inputs) feeds[name] = { data: arrays[name], dims };
    const index = this.busy.indexOf(Math.min(...this.busy));
    this.busy[index]++;
    let out;
    try {
      out = await this.sessions[index].run(feeds, this.outputName);
    } finally {
      this.busy[index]--;
    }
    const width = out.dims[out.dims.length - 1];
    const rows: Float32Array[] = [];
    for (let b = 0; b < batch.batch; b++) {
      const row = out.data.subarray(b * width, (b + 1) * width);
      rows.push(this.outputKind === 'logits' ? softmaxInPlace(row) : row);
    }
    return rows;
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
