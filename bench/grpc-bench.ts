// The Open Inference Protocol over gRPC against REST, for the same text: ModelInfer against POST
// /predict (the seed's API) and POST /v2/models/{name}/infer (the same protocol over REST), each
// sent straight to one replica and through the router in front of it. One load generator drives
// every target (a closed loop of c callers in this process: undici for REST, @grpc/grpc-js for
// gRPC over one HTTP/2 channel), so the protocols are what differs. Compiled code, as npm start
// runs it, with deploy/local.yaml's replica and router settings. Writes bench/RESULTS.md.
//   npm run bench:grpc -- [--duration 10] [--connections 50] [--rounds 2]
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { loadInferenceService } from '../shared/grpc/proto.ts';
import { describeMachine } from './lib/machine.ts';
import { bestOfRounds, protocolBenchOptions, tableRows, TEXT, untilAnswered, VERSION, type Client, type Target } from './lib/protocol-bench.ts';
import { writeSection } from './lib/results-file.ts';
import { routerWithReplica } from './lib/router-with-replica.ts';

const { durationSec, concurrency, rounds, results } = protocolBenchOptions();

const { replica, router, stop } = await routerWithReplica(VERSION, 'grpc-bench');

const GrpcClient = loadInferenceService();
const v2Body = JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [TEXT] }] });
const predictBody = JSON.stringify({ text: TEXT });
const inferRequest = { model_name: 'sentiment', inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(TEXT)] } }] };

function rest(url: string, pathname: string, body: string): Client {
  const pool = new Pool(url, { connections: concurrency });
  return {
    send: async () => {
      const res = await pool.request({ path: pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
      return res.statusCode === 200;
    },
    close: () => pool.close(),
  };
}

function grpcTarget(address: string): Client {
  const client = new GrpcClient(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { ModelInfer: (req: object, cb: (err: grpc.ServiceError | null) => void) => void };
  return {
    send: () => new Promise<boolean>((resolve, reject) => client.ModelInfer(inferRequest, (err) => (err ? (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.INTERNAL ? reject(err) : resolve(false)) : resolve(true)))),
    close: async () => client.close(),
  };
}

// Wait until the router routes to the replica.
await untilAnswered(() => rest(router.url, '/predict', predictBody));

const targets: Target[] = [
  { name: 'direct · REST POST /predict', make: () => rest(replica.url, '/predict', predictBody), server: replica },
  { name: 'direct · REST POST /v2/models/sentiment/infer', make: () => rest(replica.url, '/v2/models/sentiment/infer', v2Body), server: replica },
  { name: 'direct · gRPC ModelInfer', make: () => grpcTarget(replica.grpc!), server: replica },
  { name: 'router · REST POST /predict (coalesced)', make: () => rest(router.url, '/predict', predictBody), server: router },
  { name: 'router · REST POST /v2/models/sentiment/infer', make: () => rest(router.url, '/v2/models/sentiment/infer', v2Body), server: router },
  { name: 'router · gRPC ModelInfer', make: () => grpcTarget(router.grpc!), server: router },
];

const best = await bestOfRounds(targets, { rounds, concurrency, durationSec });
await stop();

const rows = tableRows(targets, best);
const markdown = `## Open Inference Protocol: gRPC against REST (\`npm run bench:grpc\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. One replica (sentiment ${VERSION}, compiled, deploy/local.yaml's replica settings) and the router in
front of it (deploy/local.yaml's router settings: /predict coalesced up to 32; rate limit off). The same text in every request, one
text per request. A closed loop of ${concurrency} callers in the benchmark's process for every target: undici (${concurrency} connections) for REST,
@grpc/grpc-js over one HTTP/2 channel for gRPC. ${durationSec} s per target after a 2 s warm-up, ${rounds} alternating rounds, the best kept.
CPU per request is the process answering the client: the replica when direct, the router through it. Everything shares the 2 cores.

| target | rps (best) | P50 ms | P95 ms | P99 ms | errors | non-OK | server CPU µs/request | rps per round |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}
`;
console.log(markdown);
writeSection(results, 'grpc-bench', markdown);
