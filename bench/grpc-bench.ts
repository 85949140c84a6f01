// The Open Inference Protocol over gRPC against REST, for the same text: ModelInfer against POST
// /predict (the seed's API) and POST /v2/models/{name}/infer (the same protocol over REST), each
// sent straight to one replica and through the router in front of it. One load generator drives
// every target (a closed loop of c callers in this process: undici for REST, @grpc/grpc-js for
// gRPC over one HTTP/2 channel), so the protocols are what differs. Compiled code, as npm start
// runs it, with deploy/local.yaml's replica and router settings. Writes bench/RESULTS.md.
//   npm run bench:grpc -- [--duration 10] [--connections 50] [--rounds 2]
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { loadInferenceService } from '../shared/grpc/proto.ts';
import { runClosedLoop, type Send } from './lib/closed-loop.ts';
import { cpuSeconds } from './lib/cpu.ts';
import type { LoadResult } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';
import { ROOT, type RunningProcess } from '../testkit/processes.ts';
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

const { replica, router, stop } = await routerWithReplica(VERSION, 'grpc-bench');

const GrpcClient = loadInferenceService();
const v2Body = JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [TEXT] }] });
const predictBody = JSON.stringify({ text: TEXT });
const inferRequest = { model_name: 'sentiment', inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(TEXT)] } }] };

function rest(url: string, pathname: string, body: string): { send: Send; close: () => Promise<void> } {
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

function grpcTarget(address: string): { send: Send; close: () => Promise<void> } {
  const client = new GrpcClient(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { ModelInfer: (req: object, cb: (err: grpc.ServiceError | null) => void) => void };
  return {
    send: () => new Promise<boolean>((resolve, reject) => client.ModelInfer(inferRequest, (err) => (err ? (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.INTERNAL ? reject(err) : resolve(false)) : resolve(true)))),
    close: async () => client.close(),
  };
}

// Wait until the router routes to the replica.
for (let i = 0; i < 200; i++) {
  const probe = rest(router.url, '/predict', predictBody);
  const ok = await probe.send().catch(() => false);
  await probe.close();
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

interface Target {
  name: string;
  make: () => { send: Send; close: () => Promise<void> };
  /** The process whose CPU a request costs (the router, when it is in the path). */
  server: RunningProcess;
}
const targets: Target[] = [
  { name: 'direct · REST POST /predict', make: () => rest(replica.url, '/predict', predictBody), server: replica },
  { name: 'direct · REST POST /v2/models/sentiment/infer', make: () => rest(replica.url, '/v2/models/sentiment/infer', v2Body), server: replica },
  { name: 'direct · gRPC ModelInfer', make: () => grpcTarget(replica.grpc!), server: replica },
  { name: 'router · REST POST /predict (coalesced)', make: () => rest(router.url, '/predict', predictBody), server: router },
  { name: 'router · REST POST /v2/models/sentiment/infer', make: () => rest(router.url, '/v2/models/sentiment/infer', v2Body), server: router },
  { name: 'router · gRPC ModelInfer', make: () => grpcTarget(router.grpc!), server: router },
];

interface Row extends LoadResult {
  cpuUs: number;
  perRound: number[];
}
const best = new Map<string, Row>();
for (let round = 0; round < rounds; round++) {
  for (const target of targets) {
    const client = target.make();
    await runClosedLoop(client.send, concurrency, Math.min(2, durationSec)); // warm-up
    const pid = target.server.proc.pid!;
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

const rows = targets.map((t) => {
  const r = best.get(t.name)!;
  return `| ${t.name} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.cpuUs} | ${r.perRound.join(' / ')} |`;
});
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
writeSection(values.results, 'grpc-bench', markdown);
