// Text in, labelled prediction out: tokenize, hand the rows to the micro-batcher, map
// probabilities to labels. Free of Fastify so the trainer's evaluation uses the very same path.
import type { LoadedBundle } from './bundle/load-bundle.ts';
import { lengthGroups } from '../../../shared/batching/length-groups.ts';
import { MicroBatcher, QueueFull, type BatcherOptions } from '../../../shared/batching/micro-batcher.ts';
import { OverloadedError } from '../../../shared/errors.ts';
import type { EncodedText } from './model/token-encoder.ts';

export interface Prediction {
  sentiment: string;
  confidence: number;
  probabilities: Record<string, number>;
  /** The text's word pieces and how many are unknown: what drift monitoring compares (router/src/drift/). */
  pieces: number;
  unknown_pieces: number;
}

export interface PredictorHooks {
  onBatch?: (size: number) => void;
  onInference?: (seconds: number) => void;
  onPrediction?: (p: Prediction) => void;
}

export class Predictor {
  private readonly batcher: MicroBatcher<EncodedText, Float32Array>;
  private readonly splitCost: number;
  /** How many batches run side by side. */
  readonly concurrency: number;

  constructor(
    readonly bundle: LoadedBundle,
    options: BatcherOptions & {
      /** Length-aware batching: what one more onnxruntime call is worth in padded tokens (0: never split a batch). */
      splitCostTokens?: number;
    },
    private readonly hooks: PredictorHooks = {},
  ) {
    this.splitCost = options.splitCostTokens ?? 0;
    this.concurrency = typeof options.concurrency === 'number' ? options.concurrency : 1;
    this.batcher = new MicroBatcher((rows) => this.runBatch(rows), options, hooks.onBatch);
  }

  get queued(): number {
    return this.batcher.queued;
  }

  async predict(texts: string[]): Promise<Prediction[]> {
    const rows = texts.map((t) => this.bundle.encoder.encode(t));
    const probs = await this.batcher.submit(rows).catch((err: unknown) => {
      throw err instanceof QueueFull ? new OverloadedError({ cause: err }) : err;
    });
    return probs.map((p, i) => this.toPrediction(p, rows[i]));
  }

  /** Waits until queued and running batches are finished. */
  drain(): Promise<void> {
    return this.batcher.idle();
  }

  private async runBatch(rows: EncodedText[]): Promise<Float32Array[]> {
    const groups = lengthGroups(rows.map((r) => r.ids.length), this.splitCost);
    if (groups.length === 1) return this.runPadded(rows);
    // Similar lengths together, each group padded to its own longest; answers back in order.
    const results = new Array<Float32Array>(rows.length);
    await Promise.all(
      groups.map(async (group) => {
        const out = await this.runPadded(group.map((i) => rows[i]));
        group.forEach((row, k) => (results[row] = out[k]));
      }),
    );
    return results;
  }

  private async runPadded(rows: EncodedText[]): Promise<Float32Array[]> {
    const started = performance.now();
    const result = await this.bundle.classifier.run(this.bundle.encoder.pad(rows));
    this.hooks.onInference?.((performance.now() - started) / 1000);
    return result;
  }

  private toPrediction(probs: Float32Array, row: EncodedText): Prediction {
    const { labels } = this.bundle;
    let best = 0;
    const probabilities: Record<string, number> = {};
    for (let i = 0; i < labels.length; i++) {
      probabilities[labels[i]] = probs[i];
      if (probs[i] > probs[best]) best = i;
    }
    const prediction = { sentiment: labels[best], confidence: probs[best], probabilities, pieces: row.pieces, unknown_pieces: row.unknown };
    this.hooks.onPrediction?.(prediction);
    return prediction;
  }
}
