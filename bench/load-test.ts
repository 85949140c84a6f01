// The seed's load test against the full local deployment (`npm start`):
//   ab -n 10000 -c 50 -p payload.json -T application/json http://127.0.0.1:8080/predict
// run once as written (a new connection per request) and once with keep-alive (-k). Starts the
// deployment itself, stops it afterwards, and writes bench/RESULTS.md.   (needs: apache2-utils)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeMachine } from './lib/machine.ts';
import { buildDist } from './lib/build.ts';
import { writeSection } from './lib/results-file.ts';
import { ROOT } from '../tests/helpers/service-process.ts';

const AB = '/usr/bin/ab';
if (!fs.existsSync(AB)) {
  console.error('ab is not installed: apt-get install -y apache2-utils');
  process.exit(2);
}
buildDist();

const launcher = spawn(process.execPath, [path.join(ROOT, 'dist/launcher/src/main.js')], {
  cwd: ROOT,
  env: { ...process.env, ROUTER_ADMIN_TOKEN: 'load-test-admin-token-0123456789' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let banner = '';
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the deployment did not come up in 120 s')), 120_000);
  launcher.stdout.on('data', (d) => {
    banner += d;
    if (banner.includes('Ctrl-C stops everything')) {
      clearTimeout(timer);
      resolve();
    }
  });
});

const payload = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ab-')), 'payload.json');
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

function ab(keepAlive: boolean): AbResult {
  const args = [...(keepAlive ? ['-k'] : []), '-n', '10000', '-c', '50', '-p', payload, '-T', 'application/json', 'http://127.0.0.1:8080/predict'];
  const out = execFileSync(AB, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const failedLine = /Failed requests:\s+(\d+)(?:\n\s+\(([^)]*)\))?/.exec(out);
  const result = {
    mode: keepAlive ? 'ab -k (keep-alive)' : 'ab as written (new connection per request)',
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

const rows = [ab(false), ab(true)];
launcher.kill('SIGTERM');
await new Promise((r) => launcher.on('exit', r));

const table = [
  '| run | complete | failed (ab) | non-2xx | rps | P50 ms | P95 ms | P99 ms |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.mode} | ${r.complete} | ${r.failed} | ${r.non2xx} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} |`),
].join('\n');
console.log(`\n${table}`);
writeSection(
  path.join(ROOT, 'bench', 'RESULTS.md'),
  'load-test',
  `## The seed's load test against \`npm start\` (\`npm run bench:load\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. The full local deployment (router on :8080; blue 1.0.0 ×3,
green 1.1.0 ×2, canary 2.0.0 ×1, seven processes) and ab on the same 2 cores; no response cache anywhere.
ab counts a response whose length differs from the first one as "failed" (Length): predictions carry
per-request numbers (confidence, latency_ms), so those are not errors; Non-2xx and the other kinds are.

${table}`,
);
process.exit(0);
