// Steady, bounded load for tests: clients posting /predict back to back, every answer recorded.
import { request } from 'undici';
import { closedLoop } from '../../shared/load/closed-loop.ts';

export interface LoadResult {
  sent: number;
  failed: { status: number; body: string }[];
  /** Per answered request: when it came back, and who answered. */
  answers: { at: number; environment: string; version: string }[];
}

/**
 * Steady, bounded load: `concurrency` clients posting /predict back to back until stopped (or
 * maxMs), spread in turn over several routers when given several bases.
 */
export function steadyLoad(base: string | string[], concurrency: number, maxMs = 120_000): { result: LoadResult; stop: () => Promise<LoadResult> } {
  const result: LoadResult = { sent: 0, failed: [], answers: [] };
  const bases = typeof base === 'string' ? [base] : base;
  const loop = closedLoop(async (i) => {
    result.sent++;
    try {
      const res = await request(`${bases[i % bases.length]}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a charming , funny film"}' });
      const body = await res.body.text();
      if (res.statusCode !== 200) result.failed.push({ status: res.statusCode, body });
      else result.answers.push({ at: Date.now(), environment: String(res.headers['x-environment']), version: String(res.headers['x-model-version']) });
    } catch (err) {
      result.failed.push({ status: 0, body: (err as Error).message });
    }
  }, { concurrency, maxMs });
  return {
    /** What the load has seen so far. */
    result,
    stop: async () => {
      await loop.stop();
      return result;
    },
  };
}

/**
 * Open-loop load: `rps` /predict requests a second whether or not the earlier ones have answered
 * (as independent clients arrive), until stopped or maxMs; at most `maxInFlight` outstanding.
 */
export function pacedLoad(base: string, rps: number, maxMs = 120_000, maxInFlight = 2000): { result: LoadResult; stop: () => Promise<LoadResult> } {
  const result: LoadResult = { sent: 0, failed: [], answers: [] };
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  const send = async () => {
    result.sent++;
    try {
      const res = await request(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a charming , funny film"}' });
      const body = await res.body.text();
      if (res.statusCode !== 200) result.failed.push({ status: res.statusCode, body });
      else result.answers.push({ at: Date.now(), environment: String(res.headers['x-environment']), version: String(res.headers['x-model-version']) });
    } catch (err) {
      result.failed.push({ status: 0, body: (err as Error).message });
    }
  };
  const tick = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * rps) / 1000) - result.sent;
    if (Date.now() - started > maxMs) return void clearInterval(tick);
    for (let i = 0; i < due && inFlight.size < maxInFlight; i++) {
      const p = send().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 10);
  return {
    result,
    stop: async () => {
      clearInterval(tick);
      await Promise.all(inFlight);
      return result;
    },
  };
}
