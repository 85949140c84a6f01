// Attention pooling: each word-piece and bigram embedding gets a score from a learned query,
// a softmax over the real positions weights them, and the weighted sum goes to a dense layer.
// With the query at zero it starts as the plain mean (BagOfEmbeddings).
import { Random } from '../../../../shared/random.ts';
import { floatMask } from '../../onnx/layers.ts';
import { bigramInputs, crossEntropy, Embeddings, exportClassifier, OutputLayer, Param, softmax, type Architecture, type Example, type ShapeOptions } from './common.ts';

interface Forward {
  rows: { table: Param; off: number }[];
  weights: Float64Array;
  pooled: Float64Array;
}

export class AttentionPooling implements Architecture {
  readonly kind = 'attention-pooled-embeddings+hashed-bigrams';
  private readonly emb: Embeddings;
  private readonly out: OutputLayer;
  private readonly query: Param;

  constructor(private readonly shape: ShapeOptions, seed: number) {
    this.emb = new Embeddings(shape, new Random(seed));
    this.out = new OutputLayer(shape.dim, shape.classes, shape.l2);
    this.query = new Param(new Float32Array(shape.dim), shape.l2);
  }

  private forward(ex: Example): Forward {
    const { dim } = this.shape;
    const rows: Forward['rows'] = [];
    this.emb.forEachRow(ex, (table, off) => rows.push({ table, off }));
    const scores = new Float64Array(rows.length);
    const q = this.query.data;
    rows.forEach(({ table: { data }, off }, i) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += data[off + d] * q[d];
      scores[i] = s;
    });
    const weights = softmax(scores);
    const pooled = new Float64Array(dim);
    rows.forEach(({ table: { data }, off }, i) => {
      for (let d = 0; d < dim; d++) pooled[d] += weights[i] * data[off + d];
    });
    return { rows, weights, pooled };
  }

  get bias(): Float32Array {
    return this.out.b;
  }

  predict(ex: Example): Float64Array {
    return softmax(this.out.logits(this.forward(ex).pooled));
  }

  step(ex: Example, lr: number): number {
    const { dim } = this.shape;
    const { rows, weights, pooled } = this.forward(ex);
    const [loss, grad] = crossEntropy(softmax(this.out.logits(pooled)), ex);
    const dp = this.out.backward(pooled, grad, lr);
    // d loss / d weight_i = dp · row_i; through the softmax: ds_i = w_i (da_i - Σ w_k da_k)
    const da = rows.map(({ table: { data }, off }) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += dp[d] * data[off + d];
      return s;
    });
    const mean = da.reduce((acc, v, i) => acc + v * weights[i], 0);
    const dq = new Float64Array(dim);
    const q = this.query.data;
    rows.forEach(({ table, off }, i) => {
      const ds = weights[i] * (da[i] - mean);
      for (let d = 0; d < dim; d++) {
        dq[d] += ds * table.data[off + d];
        table.update(off + d, weights[i] * dp[d] + ds * q[d], lr);
      }
    });
    for (let d = 0; d < dim; d++) this.query.update(d, dq[d], lr);
    return loss;
  }

  toOnnx(): Uint8Array {
    const { dim, bigramBuckets } = this.shape;
    return exportClassifier('sentiment_attention', this.kind, this.emb, this.out, (g, { ids, mask, words }) => {
      const table = g.initializer('embeddings.bigrams', { dims: [bigramBuckets, dim], data: this.emb.bigrams.data });
      const bi = bigramInputs(g, ids, mask, bigramBuckets);
      const rows = g.node('Concat', [g.node('Gather', [words, ids]), g.node('Gather', [table, bi.hashes])], { axis: 1 });
      const rowMask = g.node('Concat', [floatMask(g, mask), bi.maskF], { axis: 1 });
      const query = g.initializer('attention.query', { dims: [dim, 1], data: this.query.data });
      const scores = g.node('MatMul', [rows, query]); // [batch, rows, 1]
      const mask3 = g.node('Unsqueeze', [rowMask, g.ints('attention_mask_axis', [2])]);
      const penalty = g.node('Mul', [g.node('Sub', [mask3, g.scalar('attention_one', 1)]), g.scalar('attention_big', 1e9)]);
      const weights = g.node('Softmax', [g.node('Add', [scores, penalty])], { axis: 1 });
      return g.node('ReduceSum', [g.node('Mul', [rows, weights]), g.ints('attention_pool_axis', [1])], { keepdims: 0 });
    });
  }
}
