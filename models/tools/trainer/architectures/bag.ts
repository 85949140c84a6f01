// Bag of embeddings (fastText-style): the mean of the word-piece embeddings plus, with bigrams on,
// the mean of the hashed-bigram embeddings, then one dense layer to the class logits. The two
// means are kept apart so bigrams add evidence without diluting the word pieces.
import { Random } from '../../../../shared/random.ts';
import { floatMask, maskedSum, tokenCount } from '../../onnx/layers.ts';
import { bigramInputs, crossEntropy, Embeddings, exportClassifier, OutputLayer, softmax, type Architecture, type Example, type ShapeOptions } from './common.ts';

export class BagOfEmbeddings implements Architecture {
  readonly kind: string;
  private readonly emb: Embeddings;
  private readonly out: OutputLayer;

  constructor(private readonly shape: ShapeOptions, seed: number) {
    this.kind = shape.bigramBuckets > 0 ? 'bag-of-embeddings+hashed-bigrams' : 'bag-of-embeddings';
    this.emb = new Embeddings(shape, new Random(seed));
    this.out = new OutputLayer(shape.dim, shape.classes, shape.l2);
  }

  /** 1/count for a row: word pieces and bigrams are averaged separately. */
  private rowScale(ex: Example, index: number): number {
    return index < ex.ids.length ? 1 / ex.ids.length : 1 / ex.bigrams.length;
  }

  private pool(ex: Example): Float64Array {
    const { dim } = this.shape;
    const p = new Float64Array(dim);
    this.emb.forEachRow(ex, ({ data }, off, i) => {
      const scale = this.rowScale(ex, i);
      for (let d = 0; d < dim; d++) p[d] += data[off + d] * scale;
    });
    return p;
  }

  get bias(): Float32Array {
    return this.out.b;
  }

  predict(ex: Example): Float64Array {
    return softmax(this.out.logits(this.pool(ex)));
  }

  step(ex: Example, lr: number): number {
    const { dim } = this.shape;
    const p = this.pool(ex);
    const [loss, grad] = crossEntropy(softmax(this.out.logits(p)), ex);
    const dp = this.out.backward(p, grad, lr);
    this.emb.forEachRow(ex, (table, off, i) => {
      const scale = this.rowScale(ex, i);
      for (let d = 0; d < dim; d++) table.update(off + d, dp[d] * scale, lr);
    });
    return loss;
  }

  toOnnx(): Uint8Array {
    const { dim, bigramBuckets } = this.shape;
    return exportClassifier('sentiment_bag', this.kind, this.emb, this.out, (g, { ids, mask, words }) => {
      const maskF = floatMask(g, mask);
      let pooled = g.node('Div', [maskedSum(g, g.node('Gather', [words, ids]), maskF), tokenCount(g, maskF)]);
      if (bigramBuckets > 0) {
        const bi = bigramInputs(g, ids, mask, bigramBuckets);
        const table = g.initializer('embeddings.bigrams', { dims: [bigramBuckets, dim], data: this.emb.bigrams.data });
        const bigramMean = g.node('Div', [maskedSum(g, g.node('Gather', [table, bi.hashes]), bi.maskF), tokenCount(g, bi.maskF)]);
        pooled = g.node('Add', [pooled, bigramMean]);
      }
      return pooled;
    });
  }
}
