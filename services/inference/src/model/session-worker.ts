// Worker thread entry: owns one onnxruntime session and runs batches for the main thread, so
// inference never blocks the event loop that serves HTTP (onnxruntime-node's run() is synchronous).
import { parentPort, workerData } from 'node:worker_threads';
import { createOrtSession, describeSession, runOrtSession } from './ort-session.ts';
import type { FromWorker, SessionOptions, ToWorker } from './session-protocol.ts';

const port = parentPort!;
const options = workerData as SessionOptions;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

try {
  const session = await createOrtSession(options);
  port.on('message', async (msg: ToWorker) => {
    if (msg.kind === 'close') {
      await session.release();
      port.close();
      return;
    }
    try {
      const { data, dims } = await runOrtSession(session, msg.feeds, msg.output);
      post({ kind: 'result', id: msg.id, data, dims }, [data.buffer as ArrayBuffer]);
    } catch (err) {
      post({ kind: 'error', id: msg.id, message: (err as Error).message });
    }
  });
  post({ kind: 'ready', info: describeSession(session) });
} catch (err) {
  post({ kind: 'failed', message: (err as Error).message });
}
