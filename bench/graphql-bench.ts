// GraphQL's predict against REST /predict through the router, for the same text: what the GraphQL
// layer (parse, validate, cost, resolve, JSON) adds to a prediction that takes the same data path
// (coalesced into the same batches). One replica, the router in front of it, compiled as npm start
// runs them; one closed loop of undici callers drives both. Writes bench/RESULTS.md.
//   npm run bench:graphql -- [--duration 10] [--connections 50] [--rounds 2]
import { Pool } from 'undici';
import { describeMachine } from './lib/machine.ts';
import { bestOfRounds, protocolBenchOptions, tableRows, TEXT, untilAnswered, VERSION, type Client, type Target } from './lib/protocol-bench.ts';
import { writeSection } from './lib/results-file.ts';
import { routerWithReplica } from './lib/router-with-replica.ts';

const { durationSec, concurrency, rounds, results } = protocolBenchOptions();

const { router, stop } = await routerWithReplica(VERSION, 'graphql-bench');

function post(pathname: string, body: string, ok: (json: string) => boolean): Client {
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

const targets: Target[] = [
  { name: 'REST POST /predict', make: () => post('/predict', JSON.stringify({ text: TEXT }), () => true), server: router },
  { name: 'GraphQL { predict(text) { sentiment confidence modelVersion environment } }', make: () => post('/graphql', JSON.stringify({ query: 'query ($t: String!) { predict(text: $t) { sentiment confidence modelVersion environment } }', variables: { t: TEXT } }), (j) => !j.includes('"errors"')), server: router },
];

await untilAnswered(targets[0].make);
const best = await bestOfRounds(targets, { rounds, concurrency, durationSec });
await stop();

const [rest, graphql] = targets.map((t) => best.get(t.name)!);
const rows = tableRows(targets, best);
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
writeSection(results, 'graphql-bench', markdown);
