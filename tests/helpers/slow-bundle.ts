// A bundle that passes the offline gates and fails live: a copy of a real bundle whose graph does,
// after its own logits, work proportional to the texts in a batch (a [batch, N] tensor through a
// chain of element-wise ops, added to the logits scaled by 1e-30, so every answer is the original
// model's). One text costs a few milliseconds, inside the latency budget; a replica cannot keep up
// with a few hundred texts a second, so under load its answers queue and slow down.
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { writeManifest } from '../../shared/bundle/manifest.ts';

const { onnx } = onnxProto;

function floats(name: string, dims: number[], data: Float32Array) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

/** Copies `source` to `<modelsDir>/<name>/<version>` with the slow graph, its manifest rewritten. */
export function writeSlowBundle(source: string, dest: string, version: string, o: { elements: number; ops: number }): void {
  fs.cpSync(source, dest, { recursive: true, dereference: true });
  for (const f of ['manifest.json', 'manifest.sig']) fs.rmSync(path.join(dest, f), { force: true });
  const model = onnx.ModelProto.decode(fs.readFileSync(path.join(source, 'model.onnx')));
  const graph = model.graph!;
  const [nodes, outputs, initializers] = [graph.node ?? [], graph.output ?? [], graph.initializer ?? []];
  const logits = outputs[0].name!;
  const producer = nodes.find((n) => n.output?.includes(logits))!;
  producer.output = producer.output!.map((out) => (out === logits ? 'logits_before_load' : out));
  const classes = Number(outputs[0].type!.tensorType!.shape!.dim![1].dimValue);
  const spread = new Float32Array(classes * o.elements).map((_, i) => Math.sin(i) * 0.01);
  initializers.push(floats('load_spread', [classes, o.elements], spread), floats('load_scale', [], Float32Array.of(1e-30)));
  initializers.push(onnx.TensorProto.create({ name: 'load_axes', dims: [1], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(1n).buffer) }));
  const node = (opType: string, input: string[], output: string) => nodes.push(onnx.NodeProto.create({ opType, input, output: [output], name: output }));
  node('MatMul', ['logits_before_load', 'load_spread'], 'load_0');
  for (let i = 1; i <= o.ops; i++) node(i % 2 ? 'Tanh' : 'Sin', [`load_${i - 1}`], `load_${i}`);
  node('ReduceSum', [`load_${o.ops}`, 'load_axes'], 'load_sum');
  node('Mul', ['load_sum', 'load_scale'], 'load_tiny');
  node('Add', ['logits_before_load', 'load_tiny'], logits);
  Object.assign(graph, { node: nodes, initializer: initializers });
  fs.writeFileSync(path.join(dest, 'model.onnx'), onnx.ModelProto.encode(model).finish());
  const metadataFile = path.join(dest, 'metadata.json');
  const metadata = JSON.parse(fs.readFileSync(metadataFile, 'utf8'));
  fs.writeFileSync(metadataFile, `${JSON.stringify({ ...metadata, version, description: `${metadata.version} with work proportional to the batch added after its logits (a test fixture: same answers, a few ms per text)` }, null, 2)}\n`);
  writeManifest(dest);
}
