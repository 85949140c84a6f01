// Keeps one child process running: restarts it with exponential back-off when it dies on its own,
// and stops it (SIGTERM, then SIGKILL after a grace period) on request.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';

export interface SupervisedOptions {
  name: string;
  /** Where the process's stdout and stderr (JSON log lines) are appended. */
  logFile: string;
  args: string[];
  env: Record<string, string>;
  log: Logger;
  /** Runs after each start once the process is ready (e.g. register it with the router). */
  onReady?: () => Promise<void>;
  /** Runs when the process exits (e.g. deregister it). */
  onExit?: () => Promise<void>;
  isReady: () => Promise<boolean>;
  backoff?: { baseMs: number; maxMs: number };
  /** Scheduling niceness for the child (0–19: higher yields the CPU to others). */
  nice?: number;
}

export class Supervised {
  private child: ChildProcess | null = null;
  private stopping = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SupervisedOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const out = fs.openSync(this.o.logFile, 'a');
    const child = spawn(process.execPath, this.o.args, { env: { ...process.env, ...this.o.env }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    if (this.o.nice && child.pid) os.setPriority(child.pid, this.o.nice);
    this.child = child;
    const startedAt = Date.now();
    child.on('exit', (code, signal) => void this.exited(code, signal, startedAt));
    void this.waitReady(child);
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    for (let i = 0; i < 600 && this.child === child && child.exitCode === null; i++) {
      if (await this.o.isReady().catch(() => false)) {
        this.failures = 0;
        await this.o.onReady?.().catch((err: unknown) => this.o.log.error({ err, name: this.o.name }, 'post-start step failed'));
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async exited(code: number | null, signal: NodeJS.Signals | null, startedAt: number): Promise<void> {
    await this.o.onExit?.().catch(() => {});
    if (this.stopping) return;
    // A process that ran a while before dying starts over with the shortest back-off.
    if (Date.now() - startedAt > 60_000) this.failures = 0;
    const { baseMs, maxMs } = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    const delay = Math.min(maxMs, baseMs * 2 ** this.failures++);
    this.o.log.error({ name: this.o.name, code, signal, restart_in_ms: delay }, 'process exited; restarting');
    this.restartTimer = setTimeout(() => this.start(), delay);
  }
}
