// Builds ONNX graphs in memory and serializes them with the official protobuf schema (onnx-proto).
// Tensors are written as little-endian raw_data so the same weights always give the same bytes.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

export const ElemType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  INT64: onnx.TensorProto.DataType.INT64,
} as const;
export type ElemType = (typeof ElemType)[keyof typeof ElemType];

export type Dim = number | string;
export type AttrValue = number | number[] | { float: number } | { tensor: TensorInit };

export interface TensorInit {
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface ModelOptions {
  opset?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function tensorProto(name: string, init: TensorInit): Onnx.ITensorProto {
  const expected = init.dims.reduce((a, b) => a * b, 1);
  if (expected !== init.data.length) {
    throw new Error(`tensor ${name}: dims ${init.dims.join('x')} need ${expected} values, got ${init.data.length}`);
  }
  const isFloat = init.data instanceof Float32Array;
  const bytes = new Uint8Array(init.data.byteLength);
  const view = new DataView(bytes.buffer);
  init.data.forEach((v: number | bigint, i: number) => {
    if (isFloat) view.setFloat32(i * 4, v as number, true);
    else view.setBigInt64(i * 8, v as bigint, true);
  });
  return { name, dims: init.dims, dataType: isFloat ? ElemType.FLOAT : ElemType.INT64, rawData: bytes };
}

function attribute(name: string, value: AttrValue): Onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.TENSOR, t: tensorProto(name, value.tensor) };
}

function valueInfo(name: string, elemType: ElemType, dims: Dim[]): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class GraphBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, elemType: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: ElemType, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  initializer(name: string, init: TensorInit): string {
    this.initializers.push(tensorProto(name, init));
    return name;
  }

  /** A constant int64 tensor, e.g. the axes of a ReduceSum (opset >= 13 takes them as an input). */
  ints(name: string, values: number[]): string {
    return this.initializer(name, { dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
  }

  /** A constant int64 scalar tensor (rank 0). */
  int(name: string, value: number): string {
    return this.initializer(name, { dims: [], data: BigInt64Array.of(BigInt(value)) });
  }

  /** A constant float scalar tensor (rank 0). */
  scalar(name: string, value: number): string {
    return this.initializer(name, { dims: [], data: Float32Array.of(value) });
  }

  /** Adds a node; returns its single output's name (or the name given). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  toBytes(options: ModelOptions = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: options.opset ?? 17 }],
      producerName: options.producerName ?? 'sentiment-serving',
      producerVersion: options.producerVersion ?? '1',
      docString: options.docString ?? '',
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
