// Reusable graph fragments over BERT-style inputs ([batch, sequence] int64 ids and mask).
import { GraphBuilder, ElemType } from './graph-builder.ts';

export const BERT_INPUT_DIMS = ['batch', 'sequence'];

export function declareBertInputs(g: GraphBuilder, withTokenTypes: boolean): { ids: string; mask: string; types?: string } {
  const ids = g.input('input_ids', ElemType.INT64, BERT_INPUT_DIMS);
  const mask = g.input('attention_mask', ElemType.INT64, BERT_INPUT_DIMS);
  const types = withTokenTypes ? g.input('token_type_ids', ElemType.INT64, BERT_INPUT_DIMS) : undefined;
  return { ids, mask, types };
}

/** [batch, seq] int64 mask → [batch, seq] float mask. */
export function floatMask(g: GraphBuilder, mask: string): string {
  return g.node('Cast', [mask], { to: ElemType.FLOAT });
}

/** Σ_t emb[b,t,:] · mask[b,t]  → [batch, dim]. */
export function maskedSum(g: GraphBuilder, embedded: string, maskF: string): string {
  const axis2 = g.ints(`axes2_${embedded}`, [2]);
  const axis1 = g.ints(`axes1_${embedded}`, [1]);
  const mask3 = g.node('Unsqueeze', [maskF, axis2]);
  const masked = g.node('Mul', [embedded, mask3]);
  return g.node('ReduceSum', [masked, axis1], { keepdims: 0 });
}

/** Number of real tokens per row, at least 1 → [batch, 1]. */
export function tokenCount(g: GraphBuilder, maskF: string): string {
  const axis1 = g.ints(`axes1_count_${maskF}`, [1]);
  const count = g.node('ReduceSum', [maskF, axis1], { keepdims: 1 });
  return g.node('Max', [count, g.scalar(`one_${maskF}`, 1)]);
}

/** x · W + b with W [in, out]. */
export function dense(g: GraphBuilder, x: string, name: string, w: Float32Array, b: Float32Array, inDim: number, outDim: number, output?: string): string {
  const wName = g.initializer(`${name}.weight`, { dims: [inDim, outDim], data: w });
  const bName = g.initializer(`${name}.bias`, { dims: [outDim], data: b });
  return g.node('Add', [g.node('MatMul', [x, wName]), bName], {}, output);
}
