// Warm-up: before its port opens, a replica sends itself real requests (POST /predict/batch of 1 to
// 32 texts, and /predict) through a private loopback listener, so V8 has compiled and optimized
// the HTTP parser, Fastify's request pipeline, validation, tokenizing and serialization for the
// traffic it is about to serve. V8 optimizes by the calls a process has seen: a fresh bag-model
// replica spends about 1.4× the CPU per batch of one that has served 20,000 (bench/RESULTS.md).
// Its requests leave no trace: the metrics are reset after, and the rate limit lets them through.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import { BATCH_PATH, PREDICT_PATH } from '../../../shared/api/prediction.ts';

export interface WarmUpSettings {
  /** Requests to send; 0: none. */
  requests: number;
  /** Stop after this long, whatever the count. */
  maxMs: number;
  /** Texts per batch at most (the service's limit). */
  batchTexts: number;
  /** Characters per text at most (the service's limit). */
  textLength: number;
}

export interface WarmUpResult {
  requests: number;
  texts: number;
  ms: number;
  /** Whether maxMs cut it short. */
  timedOut: boolean;
  /** Whether a shutdown began during it. */
  stopped: boolean;
}

/** The largest batch sent: the router's coalesced batches are at most 32 texts (deploy/router.yaml). */
const LARGEST_BATCH = 32;

/** Texts of the lengths and kinds served: short and long, positive, negative and neutral. */
const TEXTS = [
  'a gripping , beautifully acted film',
  'dull',
  'the plot is thin and the jokes fall flat , but the cast seems to be having a good time',
  'I would not watch it again.',
  'an uneven , occasionally brilliant portrait of a family coming apart at the seams',
  'It is a movie about a man who goes to work.',
  'Worst two hours I have spent in a cinema this year!!',
  'the soundtrack alone is worth the price of admission',
  'neither as funny nor as moving as it wants to be',
  'A quiet, patient film that rewards attention; the final scene stays with you for days.',
  'meh',
  'the director knows exactly what he is doing , and it shows in every frame',
];

const sockets = new WeakSet<Socket>();

/** Whether a request came in through the warm-up listener (and so from the replica itself). */
export function isWarmUp(raw: http.IncomingMessage): boolean {
  return sockets.has(raw.socket);
}

function request(k: number, batchTexts: number, textLength: number): { path: string; body: string; texts: number } {
  const text = (i: number) => TEXTS[(k + i) % TEXTS.length]!.slice(0, textLength);
  // One in four a single /predict, as clients send without a router; the rest batches of every size.
  if (k % 4 === 3) return { path: PREDICT_PATH, body: JSON.stringify({ text: text(0) }), texts: 1 };
  const batch = k - Math.floor(k / 4); // this request's place among the batches
  const size = 1 + (batch % Math.min(LARGEST_BATCH, batchTexts));
  return { path: BATCH_PATH, body: JSON.stringify({ texts: Array.from({ length: size }, (_, i) => text(i)) }), texts: size };
}

/**
 * Sends the requests one at a time over one keep-alive connection, as the router does, and resets
 * the metrics after. Throws when one is not answered 200: a replica that cannot serve its own
 * requests must not open its port.
 */
export async function warmUp(app: FastifyInstance, settings: WarmUpSettings): Promise<WarmUpResult> {
  await app.ready();
  const server = http.createServer((req, res) => app.routing(req, res));
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 1 });
  const started = performance.now();
  let sent = 0;
  let texts = 0;
  try {
    // A signal during the warm-up stops it: the shutdown that follows exits.
    for (; sent < settings.requests && performance.now() - started < settings.maxMs && !app.lifecycle.draining; sent++) {
      const { path, body, texts: n } = request(sent, settings.batchTexts, settings.textLength);
      const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
      const answer = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`warm-up request ${sent + 1} (POST ${path}) answered ${res.statusCode}: ${answer.slice(0, 200)}`);
      texts += n;
    }
  } finally {
    await pool.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  app.metricsRegistry.resetMetrics();
  const stopped = app.lifecycle.draining;
  return { requests: sent, texts, ms: Math.round(performance.now() - started), timedOut: sent < settings.requests && !stopped, stopped };
}
