// HAProxy from Debian as the proxy to compare with: one thread, keep-alive to the backends,
// readiness checks on /health/ready, X-Forwarded-For added, on a random local port.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const HAPROXY_BIN = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p));

export interface HaproxyOptions {
  /** Where the config file is written. */
  dir: string;
  balance: string;
  /** `server` lines' arguments: name, address, weight and check settings. */
  servers: string[];
  /** Further backend lines. */
  backend?: string[];
}

export function startHaproxy(o: HaproxyOptions): { url: string; proc: ChildProcess } {
  if (!HAPROXY_BIN) throw new Error('HAProxy is not installed: apt-get install -y haproxy');
  // Below Linux's ephemeral range (32768 up): a port there may be the local end of any of the
  // run's connections, and HAProxy would fail to bind it.
  const port = 20000 + Math.floor(Math.random() * 12000);
  const cfg = path.join(o.dir, 'haproxy.cfg');
  fs.writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 4096',
      '  nbthread 1',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 30s',
      '  timeout server 30s',
      '  option http-keep-alive',
      '  http-reuse always',
      'frontend api',
      `  bind 127.0.0.1:${port}`,
      '  default_backend models',
      'backend models',
      `  balance ${o.balance}`,
      '  option httpchk GET /health/ready',
      '  option forwardfor',
      ...(o.backend ?? []).map((line) => `  ${line}`),
      ...o.servers.map((s) => `  server ${s}`),
      '',
    ].join('\n'),
  );
  const proc = spawn(HAPROXY_BIN, ['-f', cfg, '-db'], { stdio: 'ignore' });
  process.on('exit', () => proc.kill('SIGKILL'));
  return { url: `http://127.0.0.1:${port}`, proc };
}
