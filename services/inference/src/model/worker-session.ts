// Main-thread handle on an onnxruntime session that lives in a worker thread.
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../../../shared/worker-thread.ts';
import type { FromWorker, SessionInfo, SessionOptions, TensorData, ToWorker } from './session-protocol.ts';
import type { ModelSession } from './session.ts';

// The worker module beside this one: .js once compiled (npm start), .ts under tsx.
const WORKER_FILE = new URL(`./session-worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url);

interface Pending {
  resolve: (out: { data: Float32Array; dims: number[] }) => void;
  reject: (err: Error) => void;
}

export class WorkerSession implements ModelSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  private constructor(
    private readonly worker: Worker,
    readonly info: SessionInfo,
  ) {
    worker.on('message', (msg: FromWorker) => {
      if (msg.kind !== 'result' && msg.kind !== 'error') return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.kind === 'result') p?.resolve({ data: msg.data, dims: msg.dims });
      else p?.reject(new Error(msg.message));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`inference worker exited with code ${code}`)));
  }

  /** Starts a worker and resolves once its session is loaded (rejects with onnxruntime's message). */
  static open(options: SessionOptions): Promise<WorkerSession> {
    const worker = startWorker(WORKER_FILE, options);
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        worker.off('message', onMessage);
        if (msg.kind === 'ready') resolve(new WorkerSession(worker, msg.info));
        else {
          void worker.terminate();
          reject(new Error(msg.kind === 'failed' ? msg.message : 'unexpected worker message'));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  run(feeds: Record<string, TensorData>, output: string): Promise<{ data: Float32Array; dims: number[] }> {
    const id = this.nextId++;
    const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'run', id, feeds, output } satisfies ToWorker, transfer);
    });
  }

  async release(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
    await exited;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
