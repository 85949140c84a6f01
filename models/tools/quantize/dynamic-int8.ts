// Dynamic int8 quantization of an ONNX graph, as onnxruntime's quantize_dynamic does it: every
// MatMul (and Gemm) whose weight is a constant 2-D float tensor becomes onnxruntime's fused
// DynamicQuantizeMatMul (com.microsoft): the weight stored as int8, symmetric, one scale per
// output column (or one for the tensor), and the activations quantized to uint8 at run time, row
// block by row block, by the kernel itself. A bias added right after (MatMul → Add, as exported
// linear layers are) is fused into the op. Everything else (embeddings, attention's activation ×
// activation products, LayerNorm, Softmax) stays float.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { floats, num, readersOf, tensor } from '../onnx/graph-proto.ts';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

export interface QuantizeOptions {
  /** One scale per output column (true, the default) or one per weight tensor. */
  perChannel?: boolean;
  /**
   * 7-bit weights (±63): avoids the int16 saturation of AVX2's u8×s8 multiply-add on CPUs without
   * VNNI, at some precision; onnxruntime's reduce_range.
   */
  reduceRange?: boolean;
}

export interface QuantizedOp {
  node: string;
  weight: string;
  /** [K, N]: inputs × outputs. */
  shape: [number, number];
  biasFused: boolean;
}

export interface QuantizeReport {
  quantized: QuantizedOp[];
  skipped: { node: string; reason: string }[];
  weightBytesBefore: number;
  weightBytesAfter: number;
}

function attr(node: Onnx.INodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  if (!a) return fallback;
  return a.type === onnx.AttributeProto.AttributeType.FLOAT ? (a.f ?? fallback) : num(a.i);
}

/** [K, N] weights (row k = input k) with N per-column (or one) symmetric int8 scales. */
function quantizeWeights(w: Float32Array, k: number, n: number, options: Required<QuantizeOptions>) {
  const qmax = options.reduceRange ? 63 : 127;
  const scales = new Float32Array(options.perChannel ? n : 1);
  if (options.perChannel) {
    for (let row = 0; row < k; row++) for (let col = 0; col < n; col++) scales[col] = Math.max(scales[col], Math.abs(w[row * n + col]));
  } else {
    for (const v of w) scales[0] = Math.max(scales[0], Math.abs(v));
  }
  for (let i = 0; i < scales.length; i++) scales[i] = scales[i] === 0 ? 1 : scales[i] / qmax;
  const q = new Int8Array(k * n);
  for (let row = 0; row < k; row++) {
    for (let col = 0; col < n; col++) {
      const s = scales[options.perChannel ? col : 0];
      q[row * n + col] = Math.max(-qmax, Math.min(qmax, Math.round(w[row * n + col] / s)));
    }
  }
  return { q, scales };
}

export function quantizeDynamic(modelBytes: Uint8Array, options: QuantizeOptions = {}): { bytes: Uint8Array; report: QuantizeReport } {
  const settings = { perChannel: options.perChannel ?? true, reduceRange: options.reduceRange ?? false };
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name!));
  const uses = readersOf(graph);

  const report: QuantizeReport = { quantized: [], skipped: [], weightBytesBefore: 0, weightBytesAfter: 0 };
  const removed = new Set<Onnx.INodeProto>();
  const nodes: Onnx.INodeProto[] = [];
  for (const node of graph.node ?? []) {
    if (removed.has(node)) continue;
    if (node.opType !== 'MatMul' && node.opType !== 'Gemm') {
      nodes.push(node);
      continue;
    }
    const label = node.name || `${node.opType}:${node.output?.[0]}`;
    const weight = initializers.get(node.input![1]);
    const skip = (reason: string) => {
      report.skipped.push({ node: label, reason });
      nodes.push(node);
    };
    if (!weight) {
      skip('its second input is computed, not a constant weight');
      continue;
    }
    if (weight.dataType !== DataType.FLOAT || (weight.dims ?? []).length !== 2) {
      skip('its weight is not a 2-D float tensor');
      continue;
    }
    let [k, n] = (weight.dims ?? []).map(num);
    let w = floats(weight);
    let bias: string | undefined;
    let output = node.output![0];
    let fusedAdd: Onnx.INodeProto | undefined;
    if (node.opType === 'Gemm') {
      if (attr(node, 'transA', 0) !== 0 || attr(node, 'alpha', 1) !== 1 || attr(node, 'beta', 1) !== 1) {
        skip('a Gemm with transA, alpha or beta');
        continue;
      }
      if (attr(node, 'transB', 0) === 1) {
        // Stored [N, K]: transpose to the [K, N] layout MatMul takes.
        const t = new Float32Array(k * n);
        for (let row = 0; row < k; row++) for (let col = 0; col < n; col++) t[col * k + row] = w[row * n + col];
        [k, n] = [n, k];
        w = t;
      }
      const c = node.input![2] ? initializers.get(node.input![2]) : undefined;
      if (node.input![2] && !(c && c.dataType === DataType.FLOAT && (c.dims ?? []).map(num).join() === String(n))) {
        skip('a Gemm whose C is not a constant [N] bias');
        continue;
      }
      bias = node.input![2] || undefined;
    } else {
      // MatMul → Add(constant [N] bias), the only consumer: fuse the bias into the op.
      const consumers = uses.get(output) ?? [];
      const add = consumers.length === 1 && consumers[0].opType === 'Add' && !graphOutputs.has(output) ? consumers[0] : undefined;
      const other = add && add.input!.find((i) => i !== output);
      const b = other ? initializers.get(other) : undefined;
      if (add && b && b.dataType === DataType.FLOAT && (b.dims ?? []).map(num).join() === String(n)) {
        bias = other;
        fusedAdd = add;
        output = add.output![0];
      }
    }
    const { q, scales } = quantizeWeights(w, k, n, settings);
    const base = weight.name!;
    const scaleDims = settings.perChannel ? [n] : [];
    const added = [
      tensor(`${base}_quantized`, DataType.INT8, [k, n], q),
      tensor(`${base}_scale`, DataType.FLOAT, scaleDims, scales),
      tensor(`${base}_zero_point`, DataType.INT8, scaleDims, new Int8Array(scales.length)),
    ];
    for (const t of added) if (!initializers.has(t.name!)) initializers.set(t.name!, t);
    nodes.push({
      name: `${label}_quant`,
      opType: 'DynamicQuantizeMatMul',
      domain: 'com.microsoft',
      input: [node.input![0], `${base}_quantized`, `${base}_scale`, `${base}_zero_point`, ...(bias ? [bias] : [])],
      output: [output],
    });
    if (fusedAdd) removed.add(fusedAdd);
    report.quantized.push({ node: label, weight: base, shape: [k, n], biasFused: bias !== undefined });
    report.weightBytesBefore += k * n * 4;
    report.weightBytesAfter += k * n + scales.length * 5;
  }
  graph.node = nodes;

  // Float weights no node reads any more are dropped; value_info of tensors that no longer exist too.
  const read = new Set(nodes.flatMap((nd) => nd.input ?? []));
  graph.initializer = [...initializers.values()].filter((t) => read.has(t.name!) || graphOutputs.has(t.name!));
  const produced = new Set([...nodes.flatMap((nd) => nd.output ?? []), ...(graph.input ?? []).map((i) => i.name!), ...graph.initializer.map((t) => t.name!)]);
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => produced.has(v.name!));
  if (!(model.opsetImport ?? []).some((o) => o.domain === 'com.microsoft')) model.opsetImport = [...(model.opsetImport ?? []), { domain: 'com.microsoft', version: 1 }];
  return { bytes: onnx.ModelProto.encode(model).finish(), report };
}
