// npm run bench:demo [-- --bandit]
//
// `npm run demo` as a new user runs it, recorded: the shipped deployment (deploy/local.yaml as npm
// start runs it, on free ports and a copy of the weights file), then the demo with its defaults on
// the shipped sample of labelled sentences (deploy/demo/), whatever SENTIMENT_DATA_DIR says. Its
// report, its decision and its failures go to bench/RESULTS.md, which the README quotes. With
// --bandit, `npm run demo -- --bandit` with its defaults, on SENTIMENT_DATA_DIR's SST-3 test split
// where it is set (else the sample), in a section of its own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../testkit/processes.ts';
import { buildDist } from './lib/build.ts';
import { shippedDeploymentFile, startDeployment } from './lib/deployment.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';

const bandit = process.argv.includes('--bandit');
buildDist();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-demo-'));
const deploymentFile = shippedDeploymentFile(dir);
const runDir = path.join(dir, 'run');
const token = 'bench-demo-admin-token-0123456789';
const deployment = await startDeployment({ deploymentFile, token, env: { RUN_DIR: runDir } });

let output = '';
let code: number | null = null;
const started = Date.now();
try {
  const demo = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'launcher/src/demo-command.ts'), ...(bandit ? ['--bandit'] : [])], {
    cwd: ROOT,
    env: { ...process.env, RUN_DIR: runDir, DEPLOYMENT_FILE: deploymentFile, ROUTER_ADMIN_TOKEN: token, SENTIMENT_DATA_DIR: bandit ? (process.env.SENTIMENT_DATA_DIR ?? '') : '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout.on('data', (d) => {
    output += d;
    process.stdout.write(d);
  });
  demo.stderr.on('data', (d) => process.stderr.write(d));
  code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
} finally {
  await deployment.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
const seconds = Math.round((Date.now() - started) / 1000);

if (bandit) {
  writeSection(
    path.join(ROOT, 'bench/RESULTS.md'),
    'demo-bandit',
    `## npm run demo -- --bandit (${new Date().toISOString().slice(0, 10)})

\`npm run demo -- --bandit\` with its defaults (\`--requests 24000 --rate 300 --interval 2 --floor 5 --feedback-delay 2
--feedback-share 0.9 --seed 1\`) against the shipped deployment (deploy/local.yaml as \`npm start\` runs it, its guard
acting). ${describeMachine()}. It took ${seconds} s and exited ${code}. Its output (the last line is its summary):

\`\`\`
${output.trim()}
\`\`\`
`,
  );
  process.exit(code === 0 ? 0 : 1);
}
writeSection(
  path.join(ROOT, 'bench/RESULTS.md'),
  'demo',
  `## npm run demo (${new Date().toISOString().slice(0, 10)})

\`npm run demo\` with its defaults (\`--requests 2000 --rate 200 --pause 10\`) against the shipped
deployment (deploy/local.yaml as \`npm start\` runs it), on the shipped sample of labelled sentences
(deploy/demo/sst3-sample.tsv). ${describeMachine()}. It took ${seconds} s and exited ${code}. Its output:

\`\`\`
${output.trim()}
\`\`\`
`,
);
process.exit(code === 0 ? 0 : 1);
