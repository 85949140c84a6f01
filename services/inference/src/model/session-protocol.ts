// Messages between the service's main thread and its onnxruntime worker threads.
import type { InferenceSession } from 'onnxruntime-node';

export interface SessionOptions {
  modelPath: string;
  intraOpThreads: number;
  interOpThreads: number;
  /** Let idle onnxruntime pool threads spin (busy-wait) for work instead of sleeping; default true. */
  spinning?: boolean;
}

export interface TensorData {
  data: BigInt64Array;
  dims: number[];
}

export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

export interface SessionInfo {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export type ToWorker = { kind: 'run'; id: number; feeds: Record<string, TensorData>; output: string } | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready'; info: SessionInfo }
  | { kind: 'failed'; message: string }
  | { kind: 'result'; id: number; data: Float32Array; dims: number[] }
  | { kind: 'error'; id: number; message: string };

export function describeValues(values: readonly InferenceSession.ValueMetadata[]): ValueInfo[] {
  return values.map((v) => (v.isTensor ? { name: v.name, isTensor: true, type: v.type, shape: [...v.shape] } : { name: v.name, isTensor: false }));
}
