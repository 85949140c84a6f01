// Steady, bounded load for tests: clients posting /predict back to back, every answer recorded.
import { request } from 'undici';

export interface LoadResult {
  sent: number;
  failed: { status: number; body: string }[];
  /** Per answered request: when it came back, and who answered. */
  answers: { at: number; environment: string; version: string }[];
}

/** Steady, bounded load: `concurrency` clients posting /predict back to back until stopped (or maxMs). */
export function steadyLoad(base: string, concurrency: number, maxMs = 120_000): { result: LoadResult; stop: () => Promise<LoadResult> } {
  const result: LoadResult = { sent: 0, failed: [], answers: [] };
  const deadline = Date.now() + maxMs;
  let running = true;
  const clients = Array.from({ length: concurrency }, async () => {
    while (running && Date.now() < deadline) {
      result.sent++;
      try {
        const res = await request(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a charming , funny film"}' });
        const body = await res.body.text();
        if (res.statusCode !== 200) result.failed.push({ status: res.statusCode, body });
        else result.answers.push({ at: Date.now(), environment: String(res.headers['x-environment']), version: String(res.headers['x-model-version']) });
      } catch (err) {
        result.failed.push({ status: 0, body: (err as Error).message });
      }
    }
  });
  return {
    /** What the load has seen so far. */
    result,
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return result;
    },
  };
}
