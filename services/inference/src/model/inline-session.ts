// An onnxruntime session on the calling thread. onnxruntime-node runs it synchronously, so this is
// only for models whose batches take microseconds, on machines where a thread hand-off per batch
// costs more than the inference (e.g. many replicas on two cores). INFERENCE_WORKERS=0 selects it.
import type ort from 'onnxruntime-node';
import { createOrtSession, describeSession, runOrtSession } from './ort-session.ts';
import type { SessionInfo, SessionOptions, TensorData } from './session-protocol.ts';
import type { ModelSession } from './session.ts';

export class InlineSession implements ModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: SessionInfo,
  ) {}

  static async open(options: SessionOptions): Promise<InlineSession> {
    const session = await createOrtSession(options);
    return new InlineSession(session, describeSession(session));
  }

  run(feeds: Record<string, TensorData>, output: string): Promise<{ data: Float32Array; dims: number[] }> {
    return runOrtSession(this.session, feeds, output);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
