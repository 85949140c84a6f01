// Worker thread entry: owns one onnxruntime session and runs batches for the main thread, so
// inference never blocks the event loop that serves HTTP (onnxruntime-node's run() is synchronous).
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { describeValues, type FromWorker, type SessionOptions, type ToWorker } from './session-protocol.ts';

const port = parentPort!;
const options = workerData as SessionOptions;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

try {
  const session = await ort.InferenceSession.create(options.modelPath, {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  port.on('message', async (msg: ToWorker) => {
    if (msg.kind === 'close') {
      await session.release();
      port.close();
      return;
    }
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor('int64', t.data, t.dims);
      const result = await session.run(feeds, [msg.output]);
      const out = result[msg.output];
      const data = (out.data as Float32Array).slice();
      out.dispose();
      post({ kind: 'result', id: msg.id, data, dims: [...out.dims] }, [data.buffer as ArrayBuffer]);
    } catch (err) {
      post({ kind: 'error', id: msg.id, message: (err as Error).message });
    }
  });
  post({ kind: 'ready', info: { inputs: describeValues(session.inputMetadata), outputs: describeValues(session.outputMetadata) } });
} catch (err) {
  post({ kind: 'failed', message: (err as Error).message });
}
