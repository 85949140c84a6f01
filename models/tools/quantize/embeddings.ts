// Weight-only int8 for embedding tables: a Gather whose table is a large constant 2-D float tensor
// reads int8 rows instead, each row with its own symmetric scale, and turns only the rows it
// gathered back into float (Gather int8 rows → Cast → Mul by the gathered rows' scales). A
// vocabulary's embeddings are most of a small model's bytes (a quarter of them after this) and
// cost nothing at run time, since a row is scaled only when a text uses it. Tables a node other
// than a row Gather reads (tied weights) stay float.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { floats, num, readersOf, tensor } from '../onnx/graph-proto.ts';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

export interface EmbeddingReport {
  quantized: { table: string; shape: [number, number] }[];
  bytesBefore: number;
  bytesAfter: number;
}

/** Tables with fewer rows are left as they are (position and segment embeddings: a few KB). */
export const MIN_EMBEDDING_ROWS = 1024;

export function quantizeEmbeddings(modelBytes: Uint8Array, minRows = MIN_EMBEDDING_ROWS): { bytes: Uint8Array; report: EmbeddingReport } {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const report: EmbeddingReport = { quantized: [], bytesBefore: 0, bytesAfter: 0 };
  const readers = readersOf(graph);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name!));

  const tables = (graph.initializer ?? []).filter((t) => {
    const dims = (t.dims ?? []).map(num);
    const users = readers.get(t.name!) ?? [];
    return (
      t.dataType === DataType.FLOAT &&
      dims.length === 2 &&
      dims[0] >= minRows &&
      !graphOutputs.has(t.name!) &&
      users.length > 0 &&
      users.every((n) => n.opType === 'Gather' && n.input![0] === t.name && num(n.attribute?.find((a) => a.name === 'axis')?.i) === 0)
    );
  });
  const replaced = new Map<Onnx.INodeProto, Onnx.INodeProto[]>();
  for (const table of tables) {
    const [rows, dim] = (table.dims ?? []).map(num);
    const w = floats(table);
    const q = new Int8Array(rows * dim);
    const scales = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let max = 0;
      for (let c = 0; c < dim; c++) max = Math.max(max, Math.abs(w[r * dim + c]));
      const s = max === 0 ? 1 : max / 127;
      scales[r] = s;
      for (let c = 0; c < dim; c++) q[r * dim + c] = Math.round(w[r * dim + c] / s);
    }
    const base = table.name!;
    graph.initializer!.push(tensor(`${base}_int8`, DataType.INT8, [rows, dim], q), tensor(`${base}_row_scale`, DataType.FLOAT, [rows, 1], scales));
    for (const [i, gather] of (readers.get(base) ?? []).entries()) {
      const out = gather.output![0];
      const ids = gather.input![1];
      const prefix = `${base}_dequant${i}`;
      replaced.set(gather, [
        { name: `${prefix}_gather`, opType: 'Gather', input: [`${base}_int8`, ids], output: [`${prefix}_rows`], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
        { name: `${prefix}_cast`, opType: 'Cast', input: [`${prefix}_rows`], output: [`${prefix}_float`], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }] },
        { name: `${prefix}_scales`, opType: 'Gather', input: [`${base}_row_scale`, ids], output: [`${prefix}_scale`], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
        { name: `${prefix}_mul`, opType: 'Mul', input: [`${prefix}_float`, `${prefix}_scale`], output: [out] },
      ]);
    }
    report.quantized.push({ table: base, shape: [rows, dim] });
    report.bytesBefore += rows * dim * 4;
    report.bytesAfter += rows * dim + rows * 4;
  }
  const dropped = new Set(tables.map((t) => t.name!));
  graph.initializer = graph.initializer!.filter((t) => !dropped.has(t.name!));
  graph.input = (graph.input ?? []).filter((v) => !dropped.has(v.name!));
  graph.node = (graph.node ?? []).flatMap((n) => replaced.get(n) ?? [n]);
  return { bytes: onnx.ModelProto.encode(model).finish(), report };
}
