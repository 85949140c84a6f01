// CPU time a process spends (all its threads, user + system), read from /proc: a steadier measure
// of cost per request than throughput on a shared machine.
import fs from 'node:fs';

const TICKS_PER_SECOND = 100;

export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11], fields[12] are utime and stime (fields 14 and 15 of the full line)
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
