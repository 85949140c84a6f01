// What shadow traffic costs the primary: two compiled routers in front of the same replicas (blue
// 1.0.0 answers; canary 2.0.0 is the shadow), one mirroring every /predict to the canary and one
// not, take turns in one paced open-loop schedule (request n to router n mod 2), so both see the
// same stretch of the machine. Rounds of 20 s at 200 requests/s each; the primary's latency per
// round, and the shadow's comparison as the report gives it. Written to bench/RESULTS.md.
//   npm run bench:shadow [-- --rate 200 --rounds 3]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { ExperimentReport } from '../router/src/experiments/schema.ts';
import { buildDist } from './lib/build.ts';
import { runPaced } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';
import { median } from './lib/stats.ts';
import { BUILT_SERVICE_ENTRY, ROOT, startProcess, type RunningProcess } from '../testkit/processes.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '20' } } });
const RATE = Number(values.rate);
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const TOKEN = 'shadow-bench-token-0123456789';

buildDist();
const procs: RunningProcess[] = [];
const replica = (version: string) => startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: version, INFERENCE_WORKERS: '0', BATCH_MAX_WAIT_MS: '0' }, BUILT_SERVICE_ENTRY);
const [blue, canary] = await Promise.all([replica('1.0.0'), replica('2.0.0')]);
procs.push(blue, canary);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shadow-bench-'));
const router = async (shadow: number) => {
  const file = path.join(dir, `weights-${shadow}.yaml`);
  fs.writeFileSync(file, `environments:\n  blue: { weight: 1, replicas: [${blue.url}] }\n  canary: { weight: 0, shadow: ${shadow}, replicas: [${canary.url}] }\n`);
  const p = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_RATE_LIMIT_MAX: '0', ROUTER_GUARD_MODE: 'off' }, path.join(ROOT, 'dist/router/src/server.js'));
  procs.push(p);
  return p;
};
const [off, on] = [await router(0), await router(100)];
await new Promise((r) => setTimeout(r, 3000)); // first health checks pass

const rounds = [];
await runPaced({ targets: [{ name: 'off', upstreams: [{ url: off.url, weight: 1 }] }, { name: 'on', upstreams: [{ url: on.url, weight: 1 }] }], path: '/predict', body: '{"text":"a gripping , beautifully acted film"}', connections: 16, durationSec: 5, rate: RATE });
for (let i = 0; i < ROUNDS; i++) {
  const results = await runPaced({ targets: [{ name: 'off', upstreams: [{ url: off.url, weight: 1 }] }, { name: 'on', upstreams: [{ url: on.url, weight: 1 }] }], path: '/predict', body: '{"text":"a gripping , beautifully acted film"}', connections: 16, durationSec: SECONDS, rate: RATE });
  rounds.push({ off: results.get('off')!, on: results.get('on')! });
}
const res = await request(`${on.url}/admin/experiments/report`, { headers: { authorization: `Bearer ${TOKEN}` } });
const report = (await res.body.json()) as ExperimentReport;
for (const p of procs) await p.stop('SIGTERM');
fs.rmSync(dir, { recursive: true, force: true });

const shadow = report.shadows.find((s) => s.environment === 'canary');
const markdown = `## Shadow traffic's cost to the primary (\`npm run bench:shadow\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. Two compiled routers in front of the same two replicas (blue 1.0.0
answers, canary 2.0.0 is the shadow; \`INFERENCE_WORKERS=0\`): one mirrors every \`/predict\` to the canary (\`shadow: 100\`),
one does not. They take turns in one paced open-loop schedule at ${RATE} requests/s each, ${ROUNDS} rounds of ${SECONDS} s after 5 s of warm-up;
latency from each request's due time (no coordinated omission).

| round | shadow off P50 / P95 / P99 ms | shadow on P50 / P95 / P99 ms | errors off / on |
| ---: | --- | --- | --- |
${rounds.map((r, i) => `| ${i + 1} | ${r.off.p50} / ${r.off.p95} / ${r.off.p99} | ${r.on.p50} / ${r.on.p95} / ${r.on.p99} | ${r.off.errors + r.off.non2xx} / ${r.on.errors + r.on.non2xx} |`).join('\n')}
| median | ${median(rounds.map((r) => r.off.p50))} / ${median(rounds.map((r) => r.off.p95))} / ${median(rounds.map((r) => r.off.p99))} | ${median(rounds.map((r) => r.on.p50))} / ${median(rounds.map((r) => r.on.p95))} / ${median(rounds.map((r) => r.on.p99))} | |

The shadow, as the report gives it: ${shadow ? `${shadow.compared} mirrored predictions compared, ${shadow.failed} failed, ${shadow.dropped} dropped; label agreement with blue ${shadow.label_agreement}, mean confidence delta ${shadow.mean_confidence_delta}, mean latency delta ${shadow.mean_latency_delta_ms} ms` : 'no shadow row (none compared)'}.
A mirror leaves after the primary's answer is sent, so it never delays that answer; what it costs is CPU on the same two
cores (the router's send and the shadow replica's work), which shows in the tail when the machine is busy.
`;
writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'shadow', markdown);
process.stdout.write(markdown);
