// The processes of one deployment (a launcher and everything it started), each named by its role
// (launcher, router, or a replica with its model version, read from its environment), and what
// CPU each spent between two readings.
import fs from 'node:fs';
import { cpuSeconds } from './cpu.ts';

export interface DeploymentProcess {
  pid: number;
  /** launcher, router, or `replica <version>` */
  role: string;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
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
  return 'other';
}

/** `root` and its descendants, as they are now. */
export function processTree(root: number): DeploymentProcess[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const parent = parentOf(Number(name));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
  }
  const out: DeploymentProcess[] = [];
  const visit = (pid: number) => {
    out.push({ pid, role: roleOf(pid, root) });
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return out;
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
