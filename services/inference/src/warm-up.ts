// Warm-up: before its port opens, a replica sends itself real requests (POST /predict/batch of 1 to
// 32 texts, and /predict) through a private loopback listener, so V8 has compiled and optimized
// the HTTP parser, Fastify's request pipeline, validation, tokenizing and serialization for the
// traffic it is about to serve: a fresh bag-model replica spends about 1.4× the CPU per batch of
// one that has served 20,000 (bench/RESULTS.md). Its requests leave no trace: the metrics are
// reset after, and the rate limit lets them through (shared/http/warm-up.ts knows them).
import type { FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import { BATCH_PATH, PREDICT_PATH } from '../../../shared/api/prediction.ts';
import { openWarmUpListener, WARM_UP_TEXTS, type WarmUpBounds } from '../../../shared/http/warm-up.ts';

export interface WarmUpSettings extends WarmUpBounds {
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

function request(k: number, batchTexts: number, textLength: number): { path: string; body: string; texts: number } {
  const text = (i: number) => WARM_UP_TEXTS[(k + i) % WARM_UP_TEXTS.length]!.slice(0, textLength);
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
  const listener = await openWarmUpListener(app);
  const pool = new Pool(listener.origin, { connections: 1 });
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
    await listener.close();
  }
  app.metricsRegistry.resetMetrics();
  const stopped = app.lifecycle.draining;
  return { requests: sent, texts, ms: Math.round(performance.now() - started), timedOut: sent < settings.requests && !stopped, stopped };
}
