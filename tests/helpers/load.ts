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
