// GraphQL's predict against REST /predict through the router, for the same text: what the GraphQL
// layer (parse, validate, cost, resolve, JSON) adds to a prediction that takes the same data path
// (coalesced into the same batches). One replica, the router in front of it, compiled as npm start
// runs them; one closed loop of undici callers drives both. Writes bench/RESULTS.md.
//   npm run bench:graphql -- [--duration 10] [--connections 50] [--rounds 2]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { runClosedLoop, type Send } from './lib/closed-loop.ts';
import { cpuSeconds } from './lib/cpu.ts';
import type { LoadResult } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';
import { ROOT } from '../testkit/processes.ts';
import { routerWithReplica } from './lib/router-with-replica.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
  },
});
const durationSec = Number(values.duration);
const concurrency = Number(values.connections);
const rounds = Number(values.rounds);
const TEXT = "it 's a charming and often affecting journey , even if the plot is predictable .";
const VERSION = '1.1.0';

const { replica, router, stop } = await routerWithReplica(VERSION, 'graphql-bench');

function post(pathname: string, body: string, ok: (json: string) => boolean): { send: Send; close: () => Promise<void> } {
  const pool = new Pool(router.url, { connections: concurrency });
  return {
    send: async () => {
      const res = await pool.request({ path: pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.body.text();
      return res.statusCode === 200 && ok(text);
    },
    close: () => pool.close(),
  };
}

const targets = [
  { name: 'REST POST /predict', make: () => post('/predict', JSON.stringify({ text: TEXT }), () => true) },
  { name: 'GraphQL { predict(text) { sentiment confidence modelVersion environment } }', make: () => post('/graphql', JSON.stringify({ query: 'query ($t: String!) { predict(text: $t) { sentiment confidence modelVersion environment } }', variables: { t: TEXT } }), (j) => !j.includes('"errors"')) },
];

for (let i = 0; i < 200; i++) {
  const probe = targets[0].make();
  const ok = await probe.send().catch(() => false);
  await probe.close();
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

interface Row extends LoadResult {
  cpuUs: number;
  perRound: number[];
}
const best = new Map<string, Row>();
for (let round = 0; round < rounds; round++) {
  for (const target of targets) {
    const client = target.make();
    await runClosedLoop(client.send, concurrency, Math.min(2, durationSec)); // warm-up
    const pid = router.proc.pid!;
    const cpuBefore = cpuSeconds(pid);
    const result = await runClosedLoop(client.send, concurrency, durationSec);
    const cpuUs = Math.round(((cpuSeconds(pid) - cpuBefore) / Math.max(1, result.requests)) * 1e6);
    await client.close();
    const previous = best.get(target.name);
    const perRound = [...(previous?.perRound ?? []), result.rps];
    console.log(JSON.stringify({ target: target.name, round, ...result, cpuUs }));
    best.set(target.name, !previous || result.rps > previous.rps ? { ...result, cpuUs, perRound } : { ...previous, perRound });
  }
}
await stop();

const [rest, graphql] = targets.map((t) => best.get(t.name)!);
const rows = targets.map((t) => {
  const r = best.get(t.name)!;
  return `| ${t.name} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.cpuUs} | ${r.perRound.join(' / ')} |`;
});
const markdown = `## GraphQL predict against REST /predict (\`npm run bench:graphql\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. One replica (sentiment ${VERSION}, compiled, deploy/local.yaml's replica settings) and the router in
front of it (deploy/local.yaml's router settings: /predict coalesced up to 32; rate limit off). The same text in every request. A closed
loop of ${concurrency} callers (undici, ${concurrency} connections) in the benchmark's process for both. ${durationSec} s per target after a 2 s warm-up,
${rounds} alternating rounds, the best kept. Router CPU per request counts the router process alone; everything shares the 2 cores.

| target | rps (best) | P50 ms | P95 ms | P99 ms | errors | failed | router CPU µs/request | rps per round |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

GraphQL's overhead: ${(graphql.rps / rest.rps).toFixed(2)}× REST's throughput, ${graphql.cpuUs - rest.cpuUs} µs more router CPU per prediction (${(graphql.cpuUs / rest.cpuUs).toFixed(2)}×), P50 ${(graphql.p50 - rest.p50).toFixed(2)} ms more.
`;
console.log(markdown);
writeSection(values.results, 'graphql-bench', markdown);
