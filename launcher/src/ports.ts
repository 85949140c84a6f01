// Ports: is one free, and if not, which process holds it (read from /proc on Linux), so that
// `npm start` refuses with one clear line instead of looping on EADDRINUSE; and the ports replicas
// take when the deployment gives a first port.
import fs from 'node:fs';
import net from 'node:net';

export function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The socket inodes listening on `port` (IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
      if (fields.length > 9 && fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** "pid 1234 (node dist/router/src/server.js)", or undefined when it cannot be told. */
export function holderOf(port: number): string | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        // The program and what it runs, without its flags (node's would crowd out the script's path).
        const [program, ...args] = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const command = [program, ...args.filter((a) => !a.startsWith('-'))].join(' ');
        return `pid ${pid} (${command.length > 120 ? `...${command.slice(-117)}` : command})`;
      }
    }
  }
  return undefined;
}

/** The first of these ports that is taken, with what holds it; undefined when all are free. */
export async function firstTaken(host: string, ports: readonly number[]): Promise<string | undefined> {
  for (const port of ports) {
    if (port === 0 || (await isFree(host, port))) continue;
    return `port ${port} on ${host} is already in use${holderOf(port) ? ` by ${holderOf(port)}` : ''}`;
  }
  return undefined;
}

/** Replica ports from `first` up, skipping taken ones; 0 (ephemeral) when there is no first port. */
export class PortAllocator {
  private readonly inUse = new Set<number>();

  constructor(
    private readonly host: string,
    private readonly first: number | undefined,
  ) {}

  async take(): Promise<number> {
    if (!this.first) return 0;
    for (let port = this.first; port < 65535; port++) {
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      if (await isFree(this.host, port)) return port;
      this.inUse.delete(port);
    }
    throw new Error(`no free port from ${this.first} up`);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }
}

/** A port free now on `host`, as the system picks one (for a process that cannot be given port 0). */
export async function ephemeralPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
