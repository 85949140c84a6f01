// Starts real processes for tests and benchmarks (the inference service by default) on ephemeral
// ports, and reads each one's address from its log.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeArgs } from './entry.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVICE_ENTRY = path.join(ROOT, 'services/inference/src/server.ts');
/** The compiled service, as `npm start` runs it (after `npm run build`). */
export const BUILT_SERVICE_ENTRY = path.join(ROOT, 'dist/services/inference/src/server.js');

export interface RunningProcess {
  url: string;
  /** host:port of its gRPC service, when it has one. */
  grpc?: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface Exited {
  code: number | null;
  output: string;
}

/** TypeScript entries run from dist/ when it is current, else through tsx; .js entries as they are. */
export function spawnTs(entry: string, env: Record<string, string>, nodeFlags?: readonly string[]) {
  return spawn(process.execPath, nodeArgs(entry, nodeFlags), {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', ROUTER_GRPC_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a process expected to fail at start-up; resolves with its exit code and output. */
export function runToExit(env: Record<string, string>, entry = SERVICE_ENTRY, timeoutMs = 60_000): Promise<Exited> {
  const proc = spawnTs(entry, env);
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => proc.on('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, output });
  }));
}

/** `nodeFlags` replaces the flags the entry always runs with (shared/runtime/node-flags.ts), for a benchmark that weighs them. */
export function startProcess(env: Record<string, string>, entry = SERVICE_ENTRY, timeoutMs = 60_000, nodeFlags?: readonly string[]): Promise<RunningProcess> {
  const proc = spawnTs(entry, env, nodeFlags);
  let output = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`process did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Server listening at (http:\/\/127\.\d+\.\d+\.\d+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          grpc: /gRPC listening at (127\.\d+\.\d+\.\d+:\d+)/.exec(output)?.[1],
          proc,
          output: () => output,
          exited,
          stop: (signal = 'SIGTERM') => {
            if (proc.exitCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d) => (output += d));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code} before listening:\n${output}`));
    });
  });
}

/** A process's resident memory in bytes, from /proc (Linux); NaN when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Every process's parent, read from /proc (Linux): what pgrep -P would read, without procps. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parents;
}

/** The processes `pid` started, directly. */
export function childPids(pid: number): number[] {
  return [...parentPids()].filter(([, parent]) => parent === pid).map(([child]) => child);
}

/** `pid` and every process below it, parents before their children. */
export function processTreePids(pid: number): number[] {
  const parents = parentPids();
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, parent] of parents) if (parent === out[i]) out.push(child);
  return out;
}
