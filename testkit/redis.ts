// A real redis-server (Debian's) for tests and benchmarks: on a free port, its data in a temp
// folder (append-only file fsynced on every write, as the README asks of production), stopped
// (or killed, and started again on the same port and data) by the caller.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));

export interface RunningRedis {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Starts it again on the same port and data (after a kill). */
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
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
