// Several ONNX classifiers that read the same inputs, merged into one graph whose logits are the
// weighted sum of the members' log-probabilities (LogSoftmax each, then Mul by its weight, Sum; the
// weights scaled to sum to 1): softmax of that is the members' weighted geometric mean, renormalized. One graph, one
// onnxruntime run per batch, served and quantized as any other bundle. Every member's own names
// get a prefix (m0/, m1/, ...) so that nothing collides; the inputs keep theirs. The sum ends in an
// Add of a zero bias so that a calibration can shift a class (transformer/calibrate.ts).
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

export interface Member {
  bytes: Uint8Array;
  weight: number;
  /** For error messages. */
  label: string;
}

const DEFAULT_DOMAIN = '';

function opsets(model: Onnx.IModelProto): Map<string, number> {
  return new Map((model.opsetImport ?? []).map((o) => [o.domain ?? DEFAULT_DOMAIN, Number(o.version)]));
}

function elemType(v: Onnx.IValueInfoProto): number | undefined {
  return v.type?.tensorType?.elemType ?? undefined;
}

/** Renames every value, node and initializer of a member's graph that is not a graph input. */
function prefixGraph(graph: Onnx.IGraphProto, prefix: string, inputs: Set<string>, label: string): void {
  const rename = (name: string) => (name === '' || inputs.has(name) ? name : `${prefix}${name}`);
  for (const node of graph.node ?? []) {
    if ((node.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0)) throw new Error(`${label}: node ${node.name ?? node.opType} has a subgraph (If, Loop, Scan), which merging does not rename`);
    node.name = `${prefix}${node.name ?? ''}`;
    node.input = (node.input ?? []).map(rename);
    node.output = (node.output ?? []).map(rename);
  }
  for (const t of graph.initializer ?? []) t.name = rename(t.name!);
  for (const v of graph.valueInfo ?? []) v.name = rename(v.name!);
  for (const o of graph.output ?? []) o.name = rename(o.name!);
}

export function mergeClassifiers(members: Member[], classes: number): Uint8Array {
  if (members.length < 2) throw new Error('an ensemble needs at least two members');
  const models = members.map((m) => onnx.ModelProto.decode(m.bytes));
  // Operators mean what their opset says: members must agree on it.
  const first = opsets(models[0]);
  models.forEach((model, i) => {
    for (const [domain, version] of opsets(model)) {
      if (first.has(domain) && first.get(domain) !== version) throw new Error(`${members[i].label}: opset ${domain || 'ai.onnx'} ${version}, ${members[0].label} has ${first.get(domain)}; export both with the same opset`);
      first.set(domain, version);
    }
  });

  const total = members.reduce((sum, m) => sum + m.weight, 0);
  if (!members.every((m) => m.weight > 0 && Number.isFinite(m.weight))) throw new Error('every member needs a weight above 0');
  const inputs = new Map<string, Onnx.IValueInfoProto>();
  const nodes: Onnx.INodeProto[] = [];
  const initializers: Onnx.ITensorProto[] = [];
  const valueInfo: Onnx.IValueInfoProto[] = [];
  const scored: string[] = [];
  models.forEach((model, i) => {
    const graph = model.graph!;
    const label = members[i].label;
    const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name!));
    const own = (graph.input ?? []).filter((v) => !initializerNames.has(v.name!));
    for (const input of own) {
      const seen = inputs.get(input.name!);
      if (seen && elemType(seen) !== elemType(input)) throw new Error(`${label}: input ${input.name} has element type ${elemType(input)}, another member's has ${elemType(seen)}`);
      if (!seen) inputs.set(input.name!, input);
    }
    if ((graph.output ?? []).length !== 1) throw new Error(`${label}: a classifier with one output (logits) expected, it has ${(graph.output ?? []).length}`);
    prefixGraph(graph, `m${i}/`, new Set(own.map((v) => v.name!)), label);
    nodes.push(...(graph.node ?? []));
    initializers.push(...(graph.initializer ?? []));
    valueInfo.push(...(graph.valueInfo ?? []));
    const logits = graph.output![0].name!;
    const logProbs = `m${i}/ensemble_log_probabilities`;
    const weightName = `m${i}/ensemble_weight`;
    nodes.push({ name: `m${i}/ensemble_log_softmax`, opType: 'LogSoftmax', input: [logits], output: [logProbs], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] });
    initializers.push({ name: weightName, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [members[i].weight / total] });
    nodes.push({ name: `m${i}/ensemble_weighted`, opType: 'Mul', input: [logProbs, weightName], output: [`m${i}/ensemble_weighted`] });
    scored.push(`m${i}/ensemble_weighted`);
  });
  nodes.push({ name: 'ensemble_sum', opType: 'Sum', input: scored, output: ['ensemble_sum'] });
  initializers.push({ name: 'ensemble_bias', dataType: onnx.TensorProto.DataType.FLOAT, dims: [classes], floatData: new Array(classes).fill(0) });
  nodes.push({ name: 'ensemble_logits', opType: 'Add', input: ['ensemble_sum', 'ensemble_bias'], output: ['logits'] });

  const merged = onnx.ModelProto.create({
    irVersion: models.reduce((v, m) => (Number(m.irVersion) > v ? Number(m.irVersion) : v), 0),
    producerName: 'sentiment-serving ensemble',
    opsetImport: [...first].map(([domain, version]) => ({ domain, version })),
    graph: {
      name: 'ensemble',
      node: nodes,
      initializer: initializers,
      input: [...inputs.values()],
      valueInfo,
      output: [{ name: 'logits', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: classes }] } } } }],
    },
  });
  return onnx.ModelProto.encode(merged).finish();
}
