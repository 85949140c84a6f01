// A decision threshold for neutral, chosen on dev: the offset added to the neutral logit that gives
// the best dev accuracy among those with at least `minRecall` neutral recall on dev (ties: the
// smallest shift). The dev texts go through the serving code (the bundle as written, its
// tokenizer, the batcher, onnxruntime); log-probabilities order classes as the logits do. The
// offset is then written into the graph itself (the bias of the layer that produces the logits),
// so the bundle stays a plain export that any runtime serves the same way.
import onnxProto from 'onnx-proto';
import { floats, tensor } from '../onnx/graph-proto.ts';
import type { LabelledText } from '../trainer/data.ts';
import { predictAll } from '../trainer/evaluate.ts';

const { onnx } = onnxProto;

export interface Calibration {
  offset: number;
  dev: { accuracy: number; neutralRecall: number; argmaxAccuracy: number; argmaxNeutralRecall: number };
}

function score(scores: Float32Array[], labels: number[], neutral: number, offset: number) {
  let correct = 0;
  let neutralHits = 0;
  let neutralTotal = 0;
  scores.forEach((row, i) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c] + (c === neutral ? offset : 0) > row[best] + (best === neutral ? offset : 0)) best = c;
    if (best === labels[i]) correct++;
    if (labels[i] === neutral) {
      neutralTotal++;
      if (best === neutral) neutralHits++;
    }
  });
  return { accuracy: correct / labels.length, neutralRecall: neutralHits / Math.max(1, neutralTotal) };
}

/** Log-probabilities per example through the serving code, the gold class indexes, and which class is neutral. */
async function logScores(dir: string, examples: LabelledText[]) {
  const { predictions, classes } = await predictAll(dir, examples.map((e) => e.text));
  const neutral = classes.indexOf('neutral');
  if (neutral < 0) throw new Error(`${dir} has no neutral class`);
  return { scores: predictions.map((p) => Float32Array.from(classes, (c) => Math.log(p.probabilities[c]))), labels: examples.map((e) => classes.indexOf(e.label)), neutral };
}

/** The offset for the bundle in `dir`, measured on the dev examples. */
export async function chooseNeutralOffset(dir: string, dev: LabelledText[], minRecall: number): Promise<Calibration> {
  const { scores, labels, neutral } = await logScores(dir, dev);
  const argmax = score(scores, labels, neutral, 0);
  const candidates = [];
  for (let step = -20; step <= 80; step++) candidates.push({ offset: step / 20, ...score(scores, labels, neutral, step / 20) });
  // No offset reaching the recall: the plain argmax stays.
  const eligible = candidates.filter((c) => c.neutralRecall >= minRecall);
  const pool = eligible.length > 0 ? eligible : [{ offset: 0, ...argmax }];
  let best = pool[0];
  for (const c of pool) if (c.accuracy > best.accuracy || (c.accuracy === best.accuracy && Math.abs(c.offset) < Math.abs(best.offset))) best = c;
  return { offset: best.offset, dev: { accuracy: best.accuracy, neutralRecall: best.neutralRecall, argmaxAccuracy: argmax.accuracy, argmaxNeutralRecall: argmax.neutralRecall } };
}

/**
 * What a neutral threshold costs a bundle as it stands: the offset chosen on dev for `minRecall`
 * (on top of any already in its graph), and the accuracy and neutral recall it gives on test.
 */
export async function neutralTradeOff(dir: string, dev: LabelledText[], test: LabelledText[], minRecall: number) {
  const calibration = await chooseNeutralOffset(dir, dev, minRecall);
  const { scores, labels, neutral } = await logScores(dir, test);
  return { ...calibration, test: score(scores, labels, neutral, calibration.offset) };
}

/**
 * The graph with `offset` added to one class's bias in the layer that produces the logits; a graph
 * whose logits come from no constant bias (a model folding fine labels, say) gets an Add of one.
 */
export function shiftClassBias(modelBytes: Uint8Array, classIndex: number, offset: number, classes: number): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const output = graph.output![0].name!;
  const last = graph.node!.find((n) => n.output?.includes(output));
  if (!last) throw new Error(`no node produces the logits (${output})`);
  const biasName = last.opType === 'Gemm' ? last.input![2] : last.opType === 'Add' ? last.input!.find((i) => graph.initializer!.some((t) => t.name === i)) : undefined;
  let bias = graph.initializer!.find((t) => t.name === biasName);
  if (!bias || (bias.dims ?? []).length !== 1 || Number(bias.dims![0]) !== classes) {
    const before = `${output}_before_class_bias`;
    last.output = last.output!.map((o) => (o === output ? before : o));
    bias = { name: `${output}_class_bias`, dataType: onnx.TensorProto.DataType.FLOAT, dims: [classes], floatData: new Array(classes).fill(0) };
    graph.initializer!.push(bias);
    graph.node!.push({ name: 'class_bias', opType: 'Add', input: [before, bias.name!], output: [output] });
  }
  const values = floats(bias);
  values[classIndex] += offset;
  Object.assign(bias, tensor(bias.name!, onnx.TensorProto.DataType.FLOAT, [classes], values), { floatData: [] });
  return onnx.ModelProto.encode(model).finish();
}
