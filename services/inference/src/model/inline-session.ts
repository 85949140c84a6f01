// An onnxruntime session on the calling thread. onnxruntime-node runs it synchronously, so this is
// only for models whose batches take microseconds, on machines where a thread hand-off per batch
// costs more than the inference (e.g. many replicas on two cores). INFERENCE_WORKERS=0 selects it.
import ort from 'onnxruntime-node';
import { describeValues, type SessionInfo, type SessionOptions, type TensorData } from './session-protocol.ts';
import type { ModelSession } from './worker-session.ts';

export class InlineSession implements ModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: SessionInfo,
  ) {}

  static async open(options: SessionOptions): Promise<InlineSession> {
    const session = await ort.InferenceSession.create(options.modelPath, {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: options.interOpThreads,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new InlineSession(session, { inputs: describeValues(session.inputMetadata), outputs: describeValues(session.outputMetadata) });
  }

  async run(feeds: Record<string, TensorData>, output: string): Promise<{ data: Float32Array; dims: number[] }> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor('int64', t.data, t.dims);
    const result = await this.session.run(tensors, [output]);
    const out = result[output];
    return { data: out.data as Float32Array, dims: [...out.dims] };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
