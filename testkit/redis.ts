// A real redis-server (Debian's) for tests and benchmarks: on a free port, its data in a temp
// folder (append-only file fsynced on every write, as the README asks of production), stopped
// (or killed, and started again on the same port and data) by the caller.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { REDIS_SERVER, redisServerArgs } from '../launcher/src/local-redis.ts';
import { ephemeralPort } from '../launcher/src/ports.ts';
import { tempDir } from './temp-dir.ts';

export { REDIS_SERVER };

export interface RunningRedis {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Starts it again on the same port and data (after a kill). */
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function answers(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.write('PING\r\n');
        socket.once('data', (d) => {
          socket.destroy();
          resolve(d.toString().startsWith('+PONG'));
        });
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

export async function startRedis(): Promise<RunningRedis> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = tempDir('redis-');
  const port = await ephemeralPort('127.0.0.1');
  const args = redisServerArgs('127.0.0.1', port, dir);
  let proc!: ChildProcess;
  const launch = async () => {
    proc = spawn(REDIS_SERVER!, args, { stdio: 'ignore' });
    await answers(port, Date.now() + 10_000);
  };
  await launch();
  const running: RunningRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get proc() {
      return proc;
    },
    restart: launch,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill(signal);
        await exited;
      }
      if (signal === 'SIGTERM') fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return running;
}

/** The redis-server version, or null when it is not installed. */
export function redisVersion(): string | null {
  if (!REDIS_SERVER) return null;
  return /v=(\S+)/.exec(spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? null;
}
