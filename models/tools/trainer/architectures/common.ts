// What every trainable architecture offers the training loop and the exporter.
import { Random } from '../../../../shared/random.ts';
import { ElemType, GraphBuilder } from '../../onnx/graph-builder.ts';
import { declareBertInputs, dense, floatMask } from '../../onnx/layers.ts';
import { BIGRAM_MULTIPLIER } from '../features.ts';

export interface Example {
  ids: number[];
  bigrams: number[];
  label: number;
  weight: number;
}

export interface Architecture {
  readonly kind: string;
  /** Class probabilities for one example. */
  predict(ex: Example): Float64Array;
  /** One SGD step on one example; returns its loss. */
  step(ex: Example, lr: number): number;
  /** The output layer's bias, one per class (calibration adjusts it). */
  readonly bias: Float32Array;
  /** The trained weights as an ONNX graph over BERT-style inputs, output logits. */
  toOnnx(): Uint8Array;
}

/** A weight array trained by SGD with L2 decay. */
export class Param {
  constructor(
    readonly data: Float32Array,
    private readonly l2: number,
  ) {}

  update(i: number, grad: number, lr: number): void {
    this.data[i] -= lr * (grad + this.l2 * this.data[i]);
  }
}

export interface ShapeOptions {
  vocabSize: number;
  dim: number;
  classes: number;
  /** 0 leaves bigrams out. */
  bigramBuckets: number;
  l2: number;
}

export function softmax(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += (logits[i] = Math.exp(logits[i] - max));
  for (let i = 0; i < logits.length; i++) logits[i] /= sum;
  return logits;
}

/** Embedding rows for word pieces and (optionally) hashed bigrams. */
export class Embeddings {
  readonly words: Param;
  readonly bigrams: Param;

  constructor(readonly shape: ShapeOptions, rng: Random) {
    const scale = 1 / shape.dim;
    this.words = new Param(rng.fill(shape.vocabSize * shape.dim, scale), shape.l2);
    // Bigrams start at zero: they only learn what the word pieces cannot explain.
    this.bigrams = new Param(new Float32Array(shape.bigramBuckets * shape.dim), shape.l2);
  }

  /** Visits each feature row of an example: (table, offset of the row). */
  forEachRow(ex: Example, visit: (table: Param, offset: number, index: number) => void): number {
    const { dim, bigramBuckets } = this.shape;
    let i = 0;
    for (const id of ex.ids) visit(this.words, id * dim, i++);
    if (bigramBuckets > 0) for (const h of ex.bigrams) visit(this.bigrams, h * dim, i++);
    return i;
  }

  rowCount(ex: Example): number {
    return ex.ids.length + (this.shape.bigramBuckets > 0 ? ex.bigrams.length : 0);
  }
}

/** Dense output layer: logits = p · W + b, W stored [dim, classes]. */
export class OutputLayer {
  private readonly wp: Param;
  private readonly bp: Param;

  constructor(readonly dim: number, readonly classes: number, l2: number) {
    this.wp = new Param(new Float32Array(dim * classes), l2);
    this.bp = new Param(new Float32Array(classes), 0);
  }

  get w(): Float32Array {
    return this.wp.data;
  }

  get b(): Float32Array {
    return this.bp.data;
  }

  logits(p: Float64Array): Float64Array {
    const out = new Float64Array(this.classes);
    for (let c = 0; c < this.classes; c++) {
      let s = this.b[c];
      for (let d = 0; d < this.dim; d++) s += p[d] * this.w[d * this.classes + c];
      out[c] = s;
    }
    return out;
  }

  /** Given dL/dlogits, updates W and b and returns dL/dp (computed before the update). */
  backward(p: Float64Array, grad: Float64Array, lr: number): Float64Array {
    const dp = new Float64Array(this.dim);
    for (let d = 0; d < this.dim; d++) {
      let s = 0;
      for (let c = 0; c < this.classes; c++) {
        s += this.w[d * this.classes + c] * grad[c];
        this.wp.update(d * this.classes + c, p[d] * grad[c], lr);
      }
      dp[d] = s;
    }
    for (let c = 0; c < this.classes; c++) this.bp.update(c, grad[c], lr);
    return dp;
  }
}

/** Weighted softmax cross-entropy: returns [loss, dL/dlogits]. */
export function crossEntropy(probs: Float64Array, ex: Example): [number, Float64Array] {
  const grad = new Float64Array(probs.length);
  for (let c = 0; c < probs.length; c++) grad[c] = ex.weight * (probs[c] - (c === ex.label ? 1 : 0));
  return [-ex.weight * Math.log(Math.max(probs[ex.label], 1e-12)), grad];
}

/**
 * The graph every architecture exports: BERT-style inputs (input_ids, attention_mask), the word
 * embedding table, the architecture's own pooling to [batch, dim], and the dense layer to logits.
 */
export function exportClassifier(
  graphName: string,
  docString: string,
  emb: Embeddings,
  out: OutputLayer,
  pool: (g: GraphBuilder, inputs: { ids: string; mask: string; words: string }) => string,
): Uint8Array {
  const { vocabSize, dim, classes } = emb.shape;
  const g = new GraphBuilder(graphName);
  const { ids, mask } = declareBertInputs(g, false);
  g.output('logits', ElemType.FLOAT, ['batch', classes]);
  const words = g.initializer('embeddings.words', { dims: [vocabSize, dim], data: emb.words.data });
  dense(g, pool(g, { ids, mask, words }), 'classifier', out.w, out.b, dim, classes, 'logits');
  return g.toBytes({ producerName: 'sentiment-trainer', docString });
}

/**
 * Graph fragment: the hashed-bigram ids of each adjacent pair of word pieces and their float mask
 * ([batch, seq-1]), matching bigramBuckets() in features.ts.
 */
export function bigramInputs(g: GraphBuilder, ids: string, mask: string, buckets: number): { hashes: string; maskF: string } {
  const axis = g.ints('bigram_axis', [1]);
  const first = (x: string) => g.node('Slice', [x, g.ints(`bigram_start0_${x}`, [0]), g.ints(`bigram_end0_${x}`, [-1]), axis]);
  const second = (x: string) => g.node('Slice', [x, g.ints(`bigram_start1_${x}`, [1]), g.ints(`bigram_end1_${x}`, [2 ** 31 - 1]), axis]);
  const scaled = g.node('Mul', [first(ids), g.int('bigram_multiplier', BIGRAM_MULTIPLIER)]);
  const hashes = g.node('Mod', [g.node('Add', [scaled, second(ids)]), g.int('bigram_buckets', buckets)]);
  const maskF = g.node('Mul', [floatMask(g, first(mask)), floatMask(g, second(mask))]);
  return { hashes, maskF };
}
