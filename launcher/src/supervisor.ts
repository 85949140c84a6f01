// Keeps one child process running (the router): restarts it with exponential back-off when it dies
// on its own, runs a step each time it answers again (re-registering the replicas), and stops it
// on request.
import type { Logger } from 'pino';
import { Child, type ChildOptions } from './child.ts';
import { waitFor } from './wait.ts';

export interface SupervisedOptions extends ChildOptions {
  name: string;
  log: Logger;
  /** Whether the started process takes the post-start step's calls. */
  isReady: (url: string) => Promise<boolean>;
  /** Runs after each start once isReady says so. */
  onReady?: (url: string) => Promise<void>;
  /** Environment for a restart, from where the last run listened (e.g. the same ports). */
  restartEnv?: (url: string, grpc: string | undefined) => Record<string, string>;
  backoff?: { baseMs: number; maxMs: number };
}

const READY_TIMEOUT_MS = 60_000;

export class Supervised {
  private child: Child | null = null;
  private stopping = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private lastUrl: string | undefined;
  private lastGrpc: string | undefined;

  constructor(private readonly o: SupervisedOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Where the running process listens, once it has said so. */
  get url(): string | undefined {
    return this.child?.running ? this.child.url : undefined;
  }

  /** Where its gRPC service listens, when it has one. */
  get grpc(): string | undefined {
    return this.child?.running ? this.child.grpc : undefined;
  }

  start(): void {
    const child = new Child(this.lastUrl && this.o.restartEnv ? { ...this.o, env: { ...this.o.env, ...this.o.restartEnv(this.lastUrl, this.lastGrpc) } } : this.o);
    this.child = child;
    const startedAt = Date.now();
    void child.exited.then(({ code, signal }) => this.exited(code, signal, startedAt));
    void child.listening.then(async (url) => {
      this.lastUrl = url;
      this.lastGrpc = child.grpc;
      if (!(await waitFor(() => this.o.isReady(url), { timeoutMs: READY_TIMEOUT_MS, while: () => this.child === child && child.running }))) return;
      this.failures = 0;
      await this.o.onReady?.(url).catch((err: unknown) => this.o.log.error({ err, name: this.o.name }, 'post-start step failed'));
    }, () => {});
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.child?.stop(graceMs);
  }

  private exited(code: number | null, signal: NodeJS.Signals | null, startedAt: number): void {
    if (this.stopping) return;
    // A process that ran a while before dying starts over with the shortest back-off.
    if (Date.now() - startedAt > 60_000) this.failures = 0;
    const { baseMs, maxMs } = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    const delay = Math.min(maxMs, baseMs * 2 ** this.failures++);
    this.o.log.error({ name: this.o.name, code, signal, restart_in_ms: delay }, 'process exited; restarting');
    this.restartTimer = setTimeout(() => this.start(), delay);
  }
}
