// One child process of the controller: node running an entry point, its log lines appended to a
// file, an IPC channel on which it says where it listens (and whose closing ends it, so it never
// outlives the controller), its own process group (a terminal's Ctrl-C reaches the controller
// alone, which stops the children in order), and a stop that drains: SIGTERM, then SIGKILL after
// a grace period.
//
// Its own process group is also its own session, and where the kernel groups sessions for
// scheduling (autogroup, on in most desktop and many server kernels), a process's nice value only
// ranks it within its session: a replica at nice 10 alone in its session competes with the router
// as an equal. Its niceness is therefore given to its autogroup as well (measured on npm start:
// about 1.4x the requests/s of the same processes each at an equal share, bench/RESULTS.md).
import { spawn, type ChildProcess as NodeChild } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { isListeningMessage } from '../../shared/parent.ts';

export interface ChildOptions {
  args: string[];
  env: Record<string, string>;
  /** Where the process's stdout and stderr (JSON log lines) are appended. */
  logFile: string;
  /** Scheduling niceness (0–19: higher yields the CPU to others). */
  nice?: number;
  /** Called once the process has exited (e.g. to free its port). */
  onExit?: () => void;
}

/** The process's niceness, and its autogroup's where the kernel has them (nothing to do elsewhere). */
export function setNice(pid: number, nice: number): void {
  os.setPriority(pid, nice);
  try {
    fs.writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // No autogroup scheduling here (or not Linux): the nice value alone ranks the process.
  }
}

export class Child {
  private readonly proc: NodeChild;
  /** Resolves with the address the process listens on; rejects if it exits first. */
  readonly listening: Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string | undefined;
  /** host:port of its gRPC service, when it has one. */
  grpc: string | undefined;

  constructor(options: ChildOptions) {
    const out = fs.openSync(options.logFile, 'a');
    this.proc = spawn(process.execPath, options.args, { env: { ...process.env, ...options.env }, stdio: ['ignore', out, out, 'ipc'], detached: true });
    fs.closeSync(out);
    if (options.nice && this.proc.pid) setNice(this.proc.pid, options.nice);
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    if (options.onExit) void this.exited.then(options.onExit);
    this.listening = new Promise((resolve, reject) => {
      this.proc.on('message', (message) => {
        if (!isListeningMessage(message)) return;
        this.url = message.url;
        this.grpc = message.grpc;
        resolve(message.url);
      });
      void this.exited.then(({ code, signal }) => reject(new Error(`exited (${signal ?? `code ${code}`}) before listening`)));
    });
    this.listening.catch(() => {});
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGTERM (the process drains its in-flight work), SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.running) this.proc.kill('SIGKILL');
  }
}
