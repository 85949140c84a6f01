// The seed's load test against the full local deployment (`npm start`):
//   ab -n 10000 -c 50 -p payload.json -T application/json http://127.0.0.1:8080/predict
// run once as written (a new connection per request) and once with keep-alive (-k), against the
// deployment as shipped and again with the router's request coalescing off. Starts each
// deployment itself, stops it afterwards, and writes bench/RESULTS.md.   (needs: apache2-utils)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describeMachine } from './lib/machine.ts';
import { buildDist } from './lib/build.ts';
import { writeSection } from './lib/results-file.ts';
import { ROOT } from '../testkit/processes.ts';
import { request } from 'undici';
import { HAPROXY_BIN, startHaproxy } from './lib/haproxy.ts';
import { startDeployment } from './lib/deployment.ts';

const ADMIN_TOKEN = 'load-test-admin-token-0123456789';
const AB = '/usr/bin/ab';
if (!fs.existsSync(AB)) {
  console.error('ab is not installed: apt-get install -y apache2-utils');
  process.exit(2);
}
buildDist();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-'));
const payload = path.join(dir, 'payload.json');
fs.writeFileSync(payload, JSON.stringify({ text: 'a gripping , beautifully acted film' }));

interface AbResult {
  mode: string;
  complete: number;
  failed: string;
  non2xx: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Starts `npm start`'s launcher on a topology file; resolves with how to stop it. */
async function deploy(topologyFile: string) {
  const deployment = await startDeployment({ deploymentFile: topologyFile, token: ADMIN_TOKEN });
  return deployment.stop;
}

function ab(deployment: string, keepAlive: boolean, url = 'http://127.0.0.1:8080/predict'): AbResult {
  const args = [...(keepAlive ? ['-k'] : []), '-n', '10000', '-c', '50', '-p', payload, '-T', 'application/json', url];
  const out = execFileSync(AB, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const failedLine = /Failed requests:\s+(\d+)(?:\n\s+\(([^)]*)\))?/.exec(out);
  const result = {
    mode: `${deployment}: ${keepAlive ? 'ab -k (keep-alive)' : 'ab as written (new connection per request)'}`,
    complete: num(/Complete requests:\s+(\d+)/),
    failed: failedLine ? `${failedLine[1]}${failedLine[2] ? ` (${failedLine[2].replace(/\s+/g, ' ')})` : ''}` : '0',
    non2xx: num(/Non-2xx responses:\s+(\d+)/) || 0,
    rps: num(/Requests per second:\s+([\d.]+)/),
    p50: num(/\s50%\s+(\d+)/),
    p95: num(/\s95%\s+(\d+)/),
    p99: num(/\s99%\s+(\d+)/),
  };
  console.log(JSON.stringify(result));
  return result;
}

// The shipped deployment, with a copy of its weights file: a weight change during the run (the
// guard's, say, when the saturated canary's P95 trips it) stays with the run.
const topology = parse(fs.readFileSync(path.join(ROOT, 'deploy', 'local.yaml'), 'utf8'));
const weightsCopy = path.join(dir, 'weights.yaml');
fs.copyFileSync(path.resolve(ROOT, topology.router.weights_file), weightsCopy);
topology.router.weights_file = weightsCopy;
const shipped = path.join(dir, 'local.yaml');
fs.writeFileSync(shipped, stringify(topology));
const plain = path.join(dir, 'local-no-coalescing.yaml');
topology.router.env = { ...topology.router.env, ROUTER_COALESCE_MAX_BATCH: '0' };
fs.writeFileSync(plain, stringify(topology));

/**
 * For scale: HAProxy from Debian in the router's place, in front of the same replicas, each with
 * its environment's weight shared among its replicas, least connections within those weights.
 */
async function haproxyInFront(weights: Record<string, number>): Promise<{ url: string; stop: () => void } | null> {
  if (!HAPROXY_BIN) return null;
  // The replicas as the router knows them (the controller chooses their ports).
  const res = await request('http://127.0.0.1:8080/admin/replicas', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const replicas = (await res.body.json()) as { environment: string; url: string }[];
  const servers = replicas.map((r, i) => {
    const weight = Math.max(1, Math.round((weights[r.environment] ?? 0) / replicas.filter((o) => o.environment === r.environment).length));
    return `${r.environment}${i} ${new URL(r.url).host} weight ${weight} check inter 1s`;
  });
  const { url, proc } = startHaproxy({ dir, balance: 'leastconn', servers });
  await new Promise((r) => setTimeout(r, 2500)); // first health checks pass
  return { url: `${url}/predict`, stop: () => proc.kill('SIGTERM') };
}

const weights = Object.fromEntries(
  Object.entries((parse(fs.readFileSync(weightsCopy, 'utf8')) as { environments: Record<string, { weight: number }> }).environments).map(([n, e]) => [n, e.weight]),
);
const ROUNDS = 2;
const rows: (AbResult & { rounds: number[] })[] = [];
/** ab as written and with -k, alternating for ROUNDS rounds; each keeps its best round. */
function measure(name: string, url?: string) {
  const runs = Array.from({ length: ROUNDS }, () => [ab(name, false, url), ab(name, true, url)]);
  for (const mode of [0, 1]) {
    const all = runs.map((r) => r[mode]);
    rows.push({ ...all.reduce((a, b) => (b.rps > a.rps ? b : a)), rounds: all.map((r) => r.rps) });
  }
}
for (const [name, file] of [['npm start', shipped], ['coalescing off', plain]]) {
  const stop = await deploy(file);
  // A short warm-up, so that the first measured requests do not pay for JIT compilation.
  execFileSync(AB, ['-n', '5000', '-c', '50', '-p', payload, '-T', 'application/json', 'http://127.0.0.1:8080/predict'], { stdio: 'ignore' });
  measure(name);
  if (file === shipped) {
    const haproxy = await haproxyInFront(weights);
    if (haproxy) {
      measure('HAProxy 2.6 instead of the router', haproxy.url);
      haproxy.stop();
    }
  }
  await stop();
}

const table = [
  '| run | complete | failed (ab) | non-2xx | rps (best) | P50 ms | P95 ms | P99 ms | rps per round |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.mode} | ${r.complete} | ${r.failed} | ${r.non2xx} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.rounds.join(' / ')} |`),
].join('\n');
console.log(`\n${table}`);
writeSection(
  path.join(ROOT, 'bench', 'RESULTS.md'),
  'load-test',
  `## The seed's load test against \`npm start\` (\`npm run bench:load\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. The full local deployment (router on :8080; blue 1.0.0 ×3,
green 1.1.0 ×2, canary 2.0.0 ×1, seven processes) and ab on the same 2 cores; no response cache anywhere.
"npm start" is the deployment as shipped (the router coalesces /predict requests, ROUTER_COALESCE_MAX_BATCH=32, and the
replicas run at nice 10);
"coalescing off" is the same with ROUTER_COALESCE_MAX_BATCH=0; "HAProxy instead of the router" puts HAProxy 2.6 (single thread,
least connections, each replica weighted by its environment's share) in front of the same six replicas, for scale.
Each deployment gets 5,000 requests of warm-up, then ab as written and ab -k alternate for ${ROUNDS} rounds of
10,000 requests at c=50; each keeps its best round (the run-to-run spread on this VM is large, see below).
ab counts a response whose length differs from the first one as "failed" (Length): predictions carry
per-request numbers (confidence, latency_ms), so those are not errors; Non-2xx and the other kinds are.

${table}`,
);
process.exit(0);
