// Open Inference Protocol tensors between gRPC and the REST (JSON) form: a ModelInfer request
// becomes the same body POST /v2/models/{name}/infer takes, and a REST answer becomes the gRPC
// answer. Text arrives as BYTES, in `contents.bytes_contents` or raw (`raw_input_contents`: each
// element a 4-byte little-endian length and its bytes); answers come back the way the data came.
import { InvalidInferInputError } from '../errors.ts';
import type { InferParameter, ModelInferRequest, ModelInferResponse } from './proto.ts';

/** The REST (JSON) form of an inference request, as shared/api/v2.ts's inferBody validates it. */
export interface JsonInferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: { name: string; shape: number[]; datatype: string; parameters?: Record<string, unknown>; data: string[] }[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export interface JsonInferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: number[]; data: (string | number)[] }[];
}

/** Splits a raw BYTES tensor into its elements. */
export function decodeRawBytes(raw: Buffer, name: string): Buffer[] {
  const elements: Buffer[] = [];
  let offset = 0;
  while (offset < raw.length) {
    if (offset + 4 > raw.length) throw new InvalidInferInputError(`raw_input_contents of "${name}": a BYTES element needs a 4-byte length (${raw.length - offset} bytes left)`);
    const length = raw.readUInt32LE(offset);
    offset += 4;
    if (offset + length > raw.length) throw new InvalidInferInputError(`raw_input_contents of "${name}": an element of ${length} bytes runs past the end`);
    elements.push(raw.subarray(offset, offset + length));
    offset += length;
  }
  return elements;
}

export function encodeRawBytes(elements: readonly string[]): Buffer {
  const parts = elements.map((e) => Buffer.from(e, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    offset = out.writeUInt32LE(part.length, offset);
    offset += part.copy(out, offset);
  }
  return out;
}

const parameterValue = (p: InferParameter): unknown => (p.parameter_choice ? p[p.parameter_choice as keyof InferParameter] : undefined);
const parameters = (map: Record<string, InferParameter> | undefined) =>
  map && Object.keys(map).length > 0 ? Object.fromEntries(Object.entries(map).map(([k, v]) => [k, parameterValue(v)])) : undefined;

/** The request as a REST body, and whether its data came raw (the answer then goes raw too). */
export function toJsonRequest(request: ModelInferRequest): { body: JsonInferRequest; raw: boolean } {
  const raw = (request.raw_input_contents?.length ?? 0) > 0;
  if (raw && request.raw_input_contents!.length !== request.inputs.length) {
    throw new InvalidInferInputError(`raw_input_contents has ${request.raw_input_contents!.length} entries for ${request.inputs.length} inputs: give one per input`);
  }
  const inputs = request.inputs.map((input, i) => {
    if (input.datatype !== 'BYTES') throw new InvalidInferInputError(`input "${input.name}" has datatype ${input.datatype || '(none)'}: this model takes BYTES`);
    if (raw && input.contents && Object.values(input.contents).some((v) => Array.isArray(v) && v.length > 0)) {
      throw new InvalidInferInputError(`input "${input.name}": give its data in contents or in raw_input_contents, not both`);
    }
    const elements = raw ? decodeRawBytes(request.raw_input_contents![i], input.name) : (input.contents?.bytes_contents ?? []);
    return { name: input.name, shape: input.shape, datatype: input.datatype, parameters: parameters(input.parameters), data: elements.map((e) => e.toString('utf8')) };
  });
  const body: JsonInferRequest = { inputs };
  if (request.id) body.id = request.id;
  const requestParameters = parameters(request.parameters);
  if (requestParameters) body.parameters = requestParameters;
  if (request.outputs && request.outputs.length > 0) body.outputs = request.outputs.map((o) => ({ name: o.name, parameters: parameters(o.parameters) }));
  for (const input of body.inputs) if (input.parameters === undefined) delete input.parameters;
  for (const output of body.outputs ?? []) if (output.parameters === undefined) delete output.parameters;
  return { body, raw };
}

/** A REST answer in gRPC form: FP32 and BYTES outputs, in `contents` or raw. */
export function toGrpcResponse(answer: JsonInferResponse, raw: boolean): ModelInferResponse {
  const outputs = answer.outputs.map((o) => {
    const tensor = { name: o.name, datatype: o.datatype, shape: o.shape };
    if (raw) return tensor;
    return { ...tensor, contents: o.datatype === 'FP32' ? { fp32_contents: o.data as number[] } : { bytes_contents: (o.data as string[]).map((s) => Buffer.from(s, 'utf8')) } };
  });
  const rawOutputs = raw ? answer.outputs.map((o) => (o.datatype === 'FP32' ? Buffer.from(new Float32Array(o.data as number[]).buffer) : encodeRawBytes(o.data as string[]))) : [];
  return { model_name: answer.model_name, model_version: answer.model_version, id: answer.id ?? '', outputs, raw_output_contents: rawOutputs };
}
