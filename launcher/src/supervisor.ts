// Keeps one child process running: restarts it with exponential back-off when it dies on its own,
// and stops it (SIGTERM, then SIGKILL after a grace period) on request. The child tells where it
// listens over an IPC channel (shared/listening.ts), so it may take an ephemeral port.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import { isListeningMessage } from '../../shared/listening.ts';

export interface SupervisedOptions {
  name: string;
  /** Where the process's stdout and stderr (JSON log lines) are appended. */
  logFile: string;
  args: string[];
  env: Record<string, string>;
  log: Logger;
  /** Runs after each start once the process is ready (e.g. register it with the router). */
  onReady?: (url: string) => Promise<void>;
  /** Runs when the process exits (e.g. deregister it); url is where it listened, if it got that far. */
  onExit?: (url: string | undefined) => Promise<void>;
  isReady: (url: string) => Promise<boolean>;
  backoff?: { baseMs: number; maxMs: number };
  /** Scheduling niceness for the child (0–19: higher yields the CPU to others). */
  nice?: number;
}

const READY_POLL_MS = 100;
const READY_TIMEOUT_MS = 60_000;

export class Supervised {
  private child: ChildProcess | null = null;
  private listening: string | undefined;
  private stopping = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SupervisedOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Where the running process listens, once it has said so. */
  get url(): string | undefined {
    return this.listening;
  }

  start(): void {
    const out = fs.openSync(this.o.logFile, 'a');
    const child = spawn(process.execPath, this.o.args, { env: { ...process.env, ...this.o.env }, stdio: ['ignore', out, out, 'ipc'] });
    fs.closeSync(out);
    if (this.o.nice && child.pid) os.setPriority(child.pid, this.o.nice);
    this.child = child;
    this.listening = undefined;
    const startedAt = Date.now();
    child.on('message', (message) => {
      if (!isListeningMessage(message) || this.child !== child) return;
      this.listening = message.url;
      void this.waitReady(child, message.url);
    });
    child.on('exit', (code, signal) => void this.exited(code, signal, startedAt));
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

  private async waitReady(child: ChildProcess, url: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (this.child === child && child.exitCode === null && Date.now() < deadline) {
      if (await this.o.isReady(url).catch(() => false)) {
        this.failures = 0;
        await this.o.onReady?.(url).catch((err: unknown) => this.o.log.error({ err, name: this.o.name }, 'post-start step failed'));
        return;
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  private async exited(code: number | null, signal: NodeJS.Signals | null, startedAt: number): Promise<void> {
    const url = this.listening;
    this.listening = undefined;
    await this.o.onExit?.(url).catch(() => {});
    if (this.stopping) return;
    // A process that ran a while before dying starts over with the shortest back-off.
    if (Date.now() - startedAt > 60_000) this.failures = 0;
    const { baseMs, maxMs } = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    const delay = Math.min(maxMs, baseMs * 2 ** this.failures++);
    this.o.log.error({ name: this.o.name, code, signal, restart_in_ms: delay }, 'process exited; restarting');
    this.restartTimer = setTimeout(() => this.start(), delay);
  }
}
