// The one load generator of the tests, the reliability suite, the benchmarks and the demo: a
// closed loop of `concurrency` callers, each sending its next request as soon as its last one is
// answered (or, given a rate, when that request's turn comes), until stopped, out of time or out
// of requests. What a request is, and what is recorded of its answer, is the caller's `send`.
import { setTimeout as sleep } from 'node:timers/promises';

export interface ClosedLoopOptions {
  concurrency: number;
  /** Stops by itself after this long, whatever happens (load in tests and benchmarks is bounded). */
  maxMs: number;
  /** At most this many requests (default: until stopped or out of time). */
  total?: number;
  /** At most this many requests a second, spread evenly from the start (default: back to back). */
  rate?: number;
}

export interface ClosedLoop {
  /** Requests sent so far. */
  readonly sent: number;
  /** Every caller has finished: out of requests or time, or stopped. Rejects if a `send` threw. */
  readonly done: Promise<void>;
  /** Sends nothing more; resolves once the requests in flight are answered. */
  stop(): Promise<void>;
}

/** `send(i)` is the i-th request (0-based); it records what it needs and should not throw. */
export function closedLoop(send: (i: number) => Promise<void>, o: ClosedLoopOptions): ClosedLoop {
  const started = Date.now();
  const deadline = started + o.maxMs;
  const total = o.total ?? Number.POSITIVE_INFINITY;
  let claimed = 0;
  let sent = 0;
  let running = true;
  const more = () => running && Date.now() < deadline;
  const caller = async () => {
    while (more() && claimed < total) {
      const i = claimed++;
      if (o.rate) {
        const wait = Math.min(started + (i * 1000) / o.rate, deadline) - Date.now();
        if (wait > 0) await sleep(wait);
        if (!more()) return;
      }
      sent++;
      await send(i);
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency }, caller)).then(() => undefined);
  return {
    get sent() {
      return sent;
    },
    done,
    stop: () => {
      running = false;
      return done;
    },
  };
}
