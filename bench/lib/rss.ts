// Samples a process's resident memory from /proc while a load runs.
import { rssBytes } from '../../testkit/processes.ts';

export function sampleRss(pid: number, everyMs = 250): () => { maxMb: number } {
  let max = 0;
  // A process that is gone reads NaN: what was measured stays.
  const read = () => {
    const rss = rssBytes(pid);
    if (!Number.isNaN(rss)) max = Math.max(max, rss);
  };
  read();
  const timer = setInterval(read, everyMs);
  return () => {
    clearInterval(timer);
    return { maxMb: Math.round(max / 1e5) / 10 };
  };
}
