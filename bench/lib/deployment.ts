// Starts npm start's launcher (compiled, as npm start runs it) on a deployment file and resolves
// with the router's address once it printed its banner. `root` is the checkout to run (this one
// by default; bench:compare runs an older commit's from its own worktree).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from '../../testkit/processes.ts';

export interface Deployment {
  base: string;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startDeployment(o: { deploymentFile: string; token: string; env?: Record<string, string>; root?: string }): Promise<Deployment> {
  const root = o.root ?? ROOT;
  const proc = spawn(process.execPath, [path.join(root, 'dist/launcher/src/main.js')], {
    cwd: root,
    // TOPOLOGY_FILE: what launchers before the deployment controller read.
    env: { ...process.env, DEPLOYMENT_FILE: o.deploymentFile, TOPOLOGY_FILE: o.deploymentFile, ROUTER_ADMIN_TOKEN: o.token, ...o.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const banner = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/predict/;
  const deadline = Date.now() + 120_000;
  while (!banner.test(output) && proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const base = banner.exec(output)?.[1];
  if (!base) {
    proc.kill('SIGKILL');
    throw new Error(`the deployment did not come up:\n${output}`);
  }
  return {
    base,
    proc,
    output: () => output,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * deploy/local.yaml as npm start runs it, written into `dir` on free ports with a copy of its
 * weights file (a benchmark never changes the repository's): the deployment file's path.
 */
export function shippedDeploymentFile(dir: string): string {
  const shipped = parse(fs.readFileSync(path.join(ROOT, 'deploy/local.yaml'), 'utf8'));
  const weights = path.join(dir, 'weights.yaml');
  fs.copyFileSync(path.resolve(ROOT, shipped.router.weights_file), weights);
  shipped.router = { ...shipped.router, port: 0, grpc_port: 0, weights_file: weights };
  shipped.services = { ...shipped.services, first_port: 0 };
  const file = path.join(dir, 'local.yaml');
  fs.writeFileSync(file, stringify(shipped));
  return file;
}
