// Reading and writing the tensors and edges of a decoded ONNX graph (onnx-proto), for the tools
// that rewrite graphs: quantization and calibration.
import type { onnx as Onnx } from 'onnx-proto';

type Long = { toNumber(): number };

/** A protobuf int64 (dims, attributes) as a number. */
export const num = (v: number | Long | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

/** A float tensor's values, from raw_data or float_data. */
export function floats(t: Onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned, and independent of the decode buffer
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** A tensor holding `bytes` as little-endian raw_data. */
export const tensor = (name: string, dataType: number, dims: number[], bytes: ArrayBufferView): Onnx.ITensorProto => ({
  name,
  dataType,
  dims,
  rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
});

/** Each value's readers: the nodes taking it as an input. */
export function readersOf(graph: Onnx.IGraphProto): Map<string, Onnx.INodeProto[]> {
  const readers = new Map<string, Onnx.INodeProto[]>();
  for (const node of graph.node ?? []) for (const input of node.input ?? []) readers.set(input, [...(readers.get(input) ?? []), node]);
  return readers;
}
