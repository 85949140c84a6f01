// Creating and running an onnxruntime session, shared by the worker-thread and inline sessions.
import ort from 'onnxruntime-node';
import { describeValues, type SessionInfo, type SessionOptions, type TensorData } from './session-protocol.ts';

export function createOrtSession(options: SessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(options.modelPath, {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Spinning pool threads answer fastest on idle cores, and burn the CPU the router and other
    // replicas need on a shared machine.
    ...(options.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
  });
}

/** The graph's inputs and outputs, as plain data that can cross to the main thread. */
export function describeSession(session: ort.InferenceSession): SessionInfo {
  return { inputs: describeValues(session.inputMetadata), outputs: describeValues(session.outputMetadata) };
}

/** Runs int64 feeds and returns one output as a Float32Array the caller owns. */
export async function runOrtSession(session: ort.InferenceSession, feeds: Record<string, TensorData>, output: string): Promise<{ data: Float32Array; dims: number[] }> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor('int64', t.data, t.dims);
  const result = await session.run(tensors, [output]);
  const out = result[output];
  const data = (out.data as Float32Array).slice();
  out.dispose();
  return { data, dims: [...out.dims] };
}
