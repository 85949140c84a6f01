// The processes of one deployment (a launcher and everything it started), each named by its role
// (launcher, router, or a replica with its model version, read from its environment), and what
// CPU each spent between two readings.
import fs from 'node:fs';
import { processTreePids } from '../../testkit/processes.ts';
import { cpuSeconds } from './cpu.ts';

export interface DeploymentProcess {
  pid: number;
  /** launcher, router, `replica <version>` or redis-server (the store several routers share) */
  role: string;
}

function roleOf(pid: number, root: number): string {
  if (pid === root) return 'launcher';
  let cmdline = '';
  let environ = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return 'gone';
  }
  if (cmdline.includes('router/src/server')) return 'router';
  if (cmdline.includes('services/inference/src/server')) return `replica ${/(?:^|\0)MODEL_VERSION=([^\0]*)/.exec(environ)?.[1] ?? '?'}`;
  if (cmdline.includes('redis-server')) return 'redis-server';
  return 'other';
}

/** `root` and its descendants, as they are now. */
export function processTree(root: number): DeploymentProcess[] {
  return processTreePids(root).map((pid) => ({ pid, role: roleOf(pid, root) }));
}

/** CPU seconds per role (replicas of one version added up) from now until the returned function is called. */
export function cpuMeter(processes: DeploymentProcess[]): () => Map<string, number> {
  const read = (pid: number) => {
    try {
      return cpuSeconds(pid);
    } catch {
      return Number.NaN;
    }
  };
  const before = processes.map((p) => read(p.pid));
  return () => {
    const spent = new Map<string, number>();
    processes.forEach((p, i) => {
      const delta = read(p.pid) - before[i];
      if (Number.isFinite(delta)) spent.set(p.role, (spent.get(p.role) ?? 0) + delta);
    });
    return spent;
  };
}
