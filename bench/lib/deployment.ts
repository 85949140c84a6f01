// Starts npm start's launcher (compiled, as npm start runs it) on a deployment file and resolves
// with the router's address once it printed its banner. `root` is the checkout to run (this one
// by default; bench:compare runs an older commit's from its own worktree).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
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
