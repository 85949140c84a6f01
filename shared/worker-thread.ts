// A worker thread from a module file, compiled (.js, as npm start runs) or source (.ts under tsx:
// tests, development, benchmarks). Node 20 does not carry tsx's loader into worker threads, so a
// .ts worker registers it itself first.
import { Worker } from 'node:worker_threads';

export function startWorker(file: URL, workerData: unknown): Worker {
  if (!file.pathname.endsWith('.ts')) return new Worker(file, { workerData });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
