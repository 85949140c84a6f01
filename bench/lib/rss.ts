// Samples a process's resident memory from /proc while a load runs.
import fs from 'node:fs';

export function sampleRss(pid: number, everyMs = 250): () => { maxMb: number } {
  let max = 0;
  const read = () => {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) max = Math.max(max, Number(match[1]) * 1024);
  };
  read();
  const timer = setInterval(() => {
    try {
      read();
    } catch {
      // the process is gone; keep what was measured
    }
  }, everyMs);
  return () => {
    clearInterval(timer);
    return { maxMb: Math.round(max / 1e5) / 10 };
  };
}
