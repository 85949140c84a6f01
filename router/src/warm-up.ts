// The router's warm-up: once it listens and every environment with weight has a replica to serve
// it, the router sends itself POST /predict (and some /predict/batch) through a private loopback
// listener, many at once and half of them on a new connection each, as clients do. A fresh router
// runs Node's HTTP server, Fastify, undici and the data path unoptimized: through its first 5,000
// requests of the seed's load test it spent about twice the CPU per request of one that had served
// 20,000 (bench/RESULTS.md). Readiness stays 503 while it runs, so that a load balancer (or
// npm start's banner) sends clients to a router that is already fast.
// The requests reach real replicas and are answered as any; the data path counts them as no
// prediction (core.ts: no metrics, windows, experiment, feedback, drift or shadow), and the rate
// limit and API keys let them through. What they cost the replicas is real, and counted there.
import type { FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import { BATCH_PATH, PREDICT_PATH } from '../../shared/api/prediction.ts';
import { openWarmUpListener, WARM_UP_TEXTS, type WarmUpBounds } from '../../shared/http/warm-up.ts';

export interface RouterWarmUpResult {
  requests: number;
  /** Sending took this long (the wait for replicas aside). */
  ms: number;
  /** How long it waited for every environment with weight to have a replica. */
  waitedMs: number;
  /** Why it stopped before `requests`: the time limit, no replicas, an answer other than 200, a shutdown. */
  stoppedBy?: 'max_ms' | 'no_replicas' | 'answer' | 'shutdown';
  /** The answer that stopped it. */
  answer?: string;
}

/** How long the warm-up waits for replicas before the router becomes ready without it. */
const WAIT_FOR_REPLICAS_MS = 60_000;
const POLL_MS = 100;
/** Requests in flight at once: enough for the coalescer to form batches, as under load. */
const CONCURRENCY = 32;

/** Every environment the weights give traffic has an available replica (and there is one). */
export function routable(app: FastifyInstance): boolean {
  const weighted = app.weights.snapshot.environments.filter((e) => e.weight > 0);
  return weighted.length > 0 && weighted.every((e) => app.replicas.isAvailable(e.name));
}

function request(k: number): { path: string; body: string } {
  const text = (i: number) => WARM_UP_TEXTS[(k + i) % WARM_UP_TEXTS.length]!;
  // One in eight a /predict/batch of 1 to 8 texts (proxied as it came); the rest /predict.
  if (k % 8 === 7) return { path: BATCH_PATH, body: JSON.stringify({ texts: Array.from({ length: 1 + ((k >> 3) % 8) }, (_, i) => text(i)) }) };
  return { path: PREDICT_PATH, body: JSON.stringify({ text: text(0) }) };
}

export async function warmUpRouter(app: FastifyInstance, settings: WarmUpBounds): Promise<RouterWarmUpResult> {
  const waitStarted = performance.now();
  while (!routable(app) && !app.lifecycle.draining && performance.now() - waitStarted < WAIT_FOR_REPLICAS_MS) await new Promise((r) => setTimeout(r, POLL_MS));
  const waitedMs = Math.round(performance.now() - waitStarted);
  if (app.lifecycle.draining) return { requests: 0, ms: 0, waitedMs, stoppedBy: 'shutdown' };
  if (!routable(app)) return { requests: 0, ms: 0, waitedMs, stoppedBy: 'no_replicas' };

  const listener = await openWarmUpListener(app);
  const pool = new Pool(listener.origin, { connections: CONCURRENCY });
  const started = performance.now();
  let next = 0;
  let answered = 0;
  let stop: Pick<RouterWarmUpResult, 'stoppedBy' | 'answer'> | undefined;
  const worker = async () => {
    while (!stop && next < settings.requests) {
      if (app.lifecycle.draining) stop = { stoppedBy: 'shutdown' };
      else if (performance.now() - started >= settings.maxMs) stop = { stoppedBy: 'max_ms' };
      if (stop) return;
      const k = next++;
      const { path, body } = request(k);
      try {
        // Every other request on a connection of its own, as clients that do not keep them alive,
        // and with the headers most clients add: the shapes V8 learns are those clients bring.
        const reset = k % 2 === 0;
        const headers = reset ? { 'content-type': 'application/json', accept: '*/*', 'user-agent': 'sentiment-router-warm-up' } : { 'content-type': 'application/json' };
        const res = await pool.request({ method: 'POST', path, headers, body, reset });
        const text = await res.body.text();
        if (res.statusCode !== 200) stop ??= { stoppedBy: 'answer', answer: `POST ${path} answered ${res.statusCode}: ${text.slice(0, 200)}` };
        else answered++;
      } catch (err) {
        stop ??= { stoppedBy: 'answer', answer: `POST ${path} failed: ${(err as Error).message}` };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    await pool.close();
    await listener.close();
  }
  return { requests: answered, ms: Math.round(performance.now() - started), waitedMs, ...stop };
}
