// The store several routers share, when deploy/local.yaml runs more than one and names none:
// Debian's redis-server on a free port, its data under the run folder (append-only file, fsync
// on every write), restarted if it dies, stopped with the rest.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ephemeralPort } from './ports.ts';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));

/**
 * redis-server's arguments: on host:port, its data in dir, an append-only file fsynced on every
 * write, and expired keys freed off its main thread: the routers' answers for feedback expire a
 * bucket at a time (state/shared-feedback.ts), and freeing a bucket of 800,000 answers in line
 * held Redis for 236 ms (10 ms lazily).
 */
export function redisServerArgs(host: string, port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--lazyfree-lazy-expire', 'yes', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
}

export class LocalRedis {
  private proc: ChildProcess | null = null;
  private stopping = false;

  private constructor(
    readonly url: string,
    private readonly args: string[],
    private readonly log: Logger,
  ) {}

  static async start(dir: string, host: string, log: Logger): Promise<LocalRedis> {
    fs.mkdirSync(dir, { recursive: true });
    const port = await ephemeralPort(host);
    const redis = new LocalRedis(`redis://${host}:${port}`, redisServerArgs(host, port, dir), log);
    redis.spawn();
    return redis;
  }

  private spawn(): void {
    const proc = spawn(REDIS_SERVER!, this.args, { stdio: 'ignore' });
    this.proc = proc;
    this.log.info({ pid: proc.pid, url: this.url }, 'state store (redis-server) started');
    proc.once('exit', (code, signal) => {
      // Ctrl-C reaches the whole foreground group: the launcher is stopping everything already.
      if (this.stopping || signal === 'SIGINT') return;
      // The routers serve on without it (feedback answers 503) and reconnect once it is back.
      this.log.error({ code, signal }, 'state store (redis-server) exited: restarting it in 1 s');
      setTimeout(() => !this.stopping && this.spawn(), 1000).unref();
    });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
}
