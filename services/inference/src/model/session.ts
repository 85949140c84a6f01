// What the classifier needs from an onnxruntime session, wherever it runs: on the calling thread
// (inline-session.ts) or in a worker thread (worker-session.ts).
import type { SessionInfo, TensorData } from './session-protocol.ts';

export interface ModelSession {
  readonly info: SessionInfo;
  run(feeds: Record<string, TensorData>, output: string): Promise<{ data: Float32Array; dims: number[] }>;
  release(): Promise<void>;
}
