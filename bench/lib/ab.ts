// ApacheBench (Debian's apache2-utils), the seed's load generator, run and its report read: the
// rate, the percentiles it prints, and its failures. ab counts an answer whose length differs from
// the first one's as "failed (Length)": predictions carry per-request numbers (confidence,
// latency_ms), so those are not errors; non-2xx answers and the other kinds are.
import { execFile } from 'node:child_process';
import fs from 'node:fs';

export const AB = '/usr/bin/ab';

export interface AbOptions {
  url: string;
  /** A file holding the POST body. */
  bodyFile: string;
  requests: number;
  concurrency: number;
  keepAlive?: boolean;
  headers?: Record<string, string>;
}

export interface AbResult {
  complete: number;
  /** Failures that are errors: connect, receive, exceptions and non-2xx answers (not Length). */
  failed: number;
  /** ab's own failure line, as it printed it. */
  failedDetail: string;
  non2xx: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

export function abInstalled(): boolean {
  return fs.existsSync(AB);
}

export function parseAb(out: string): AbResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const failedLine = /Failed requests:\s+(\d+)(?:\n\s+\(([^)]*)\))?/.exec(out);
  const kinds = Object.fromEntries([...(failedLine?.[2] ?? '').matchAll(/(\w+):\s*(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  const non2xx = num(/Non-2xx responses:\s+(\d+)/) || 0;
  return {
    complete: num(/Complete requests:\s+(\d+)/),
    failed: (kinds.Connect ?? 0) + (kinds.Receive ?? 0) + (kinds.Exceptions ?? 0) + non2xx,
    failedDetail: failedLine ? `${failedLine[1]}${failedLine[2] ? ` (${failedLine[2].replace(/\s+/g, ' ')})` : ''}` : '0',
    non2xx,
    rps: num(/Requests per second:\s+([\d.]+)/),
    p50: num(/\s50%\s+(\d+)/),
    p95: num(/\s95%\s+(\d+)/),
    p99: num(/\s99%\s+(\d+)/),
  };
}

/** Runs ab to the end (it stops by itself after `requests`) and reads its report. */
export function runAb(o: AbOptions): Promise<AbResult> {
  const args = [...(o.keepAlive ? ['-k'] : []), '-n', String(o.requests), '-c', String(o.concurrency), '-p', o.bodyFile, '-T', 'application/json'];
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(o.url);
  return new Promise((resolve, reject) =>
    execFile(AB, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 600_000 }, (err, stdout, stderr) => (err ? reject(new Error(`ab failed: ${stderr || err.message}`)) : resolve(parseAb(stdout)))),
  );
}
