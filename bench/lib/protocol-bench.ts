// What the protocol benchmarks (bench:grpc, bench:graphql) share: their options, the text they
// send, waiting until the router routes, and the alternating rounds that keep each target's best
// with the CPU its server process spent per request.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, type RunningProcess } from '../../testkit/processes.ts';
import { runClosedLoop, type Send } from './closed-loop.ts';
import { cpuSeconds } from './cpu.ts';
import type { LoadResult } from './load.ts';

export const TEXT = "it 's a charming and often affecting journey , even if the plot is predictable .";
export const VERSION = '1.1.0';

export interface Client {
  send: Send;
  close: () => Promise<void>;
}

export interface Target {
  name: string;
  make: () => Client;
  /** The process whose CPU a request costs (the router, when it is in the path). */
  server: RunningProcess;
}

export interface Row extends LoadResult {
  cpuUs: number;
  perRound: number[];
}

/** --duration (s per target), --connections, --rounds and --results (the file written). */
export function protocolBenchOptions(): { durationSec: number; concurrency: number; rounds: number; results: string } {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '2' },
      results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
    },
  });
  return { durationSec: Number(values.duration), concurrency: Number(values.connections), rounds: Number(values.rounds), results: values.results };
}

/** Waits (up to 20 s) until a probe made by `make` answers: the router routes to the replica. */
export async function untilAnswered(make: () => Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const probe = make();
    const ok = await probe.send().catch(() => false);
    await probe.close();
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every target in turn for `rounds` rounds, a 2 s warm-up before each run; each target's best round. */
export async function bestOfRounds(targets: Target[], o: { rounds: number; concurrency: number; durationSec: number }): Promise<Map<string, Row>> {
  const best = new Map<string, Row>();
  for (let round = 0; round < o.rounds; round++) {
    for (const target of targets) {
      const client = target.make();
      await runClosedLoop(client.send, o.concurrency, Math.min(2, o.durationSec)); // warm-up
      const pid = target.server.proc.pid!;
      const cpuBefore = cpuSeconds(pid);
      const result = await runClosedLoop(client.send, o.concurrency, o.durationSec);
      const cpuUs = Math.round(((cpuSeconds(pid) - cpuBefore) / Math.max(1, result.requests)) * 1e6);
      await client.close();
      const previous = best.get(target.name);
      const perRound = [...(previous?.perRound ?? []), result.rps];
      console.log(JSON.stringify({ target: target.name, round, ...result, cpuUs }));
      best.set(target.name, !previous || result.rps > previous.rps ? { ...result, cpuUs, perRound } : { ...previous, perRound });
    }
  }
  return best;
}

/** The table's rows: target, best rps, P50/P95/P99, errors, failures, CPU µs per request, rps per round. */
export const tableRows = (targets: Target[], best: Map<string, Row>) =>
  targets.map((t) => {
    const r = best.get(t.name)!;
    return `| ${t.name} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.cpuUs} | ${r.perRound.join(' / ')} |`;
  });
