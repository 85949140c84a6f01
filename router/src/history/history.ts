// The decision trail: every change of weights with its cause (a file edit, an admin call, a rollout
// step, a guard, a rollback) and the weights before and after, and every automated decision with
// what it was made on (metric, value, threshold, window, sample, action). Kept in memory for the
// admin API and appended, one JSON line each, to a file, so it survives a router restart.
import { AppendLog, readJsonLines } from '../../../shared/durable-file.ts';
import type { Logger } from 'pino';
import type { HistoryEntry } from './schema.ts';

/** Entries kept in memory (and read back from the file at start). */
const KEPT = 2000;

export class History {
  private readonly entries: HistoryEntry[] = [];
  private readonly appended: AppendLog | undefined;

  private constructor(
    file: string | undefined,
    private readonly log: Logger,
  ) {
    this.appended = file ? new AppendLog(file) : undefined;
  }

  /** Reads the last entries of the file (a torn last line is skipped). */
  static async open(file: string | undefined, log: Logger): Promise<History> {
    const history = new History(file, log);
    if (!file) return history;
    const entries = await readJsonLines<HistoryEntry>(file, () => log.warn({ file }, 'history: a line that is not JSON was skipped'));
    history.entries.push(...entries.slice(-KEPT));
    return history;
  }

  record(entry: Omit<HistoryEntry, 'at'>): HistoryEntry {
    const full = { at: new Date().toISOString(), ...entry } as HistoryEntry;
    this.entries.push(full);
    if (this.entries.length > KEPT) this.entries.splice(0, this.entries.length - KEPT);
    this.appended?.append(full).catch((err: unknown) => this.log.error({ err, file: this.appended?.file }, 'history: could not append to the file'));
    return full;
  }

  /** Newest first. */
  list(o: { limit: number; environment?: string; kind?: string }): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < o.limit; i--) {
      const e = this.entries[i];
      if (o.kind && e.kind !== o.kind) continue;
      if (o.environment && e.environment !== o.environment && !(e.weights_after && o.environment in e.weights_after)) continue;
      out.push(e);
    }
    return out;
  }

  /** Waits for pending appends: before a change is acknowledged, and on close. */
  flush(): Promise<void> {
    return this.appended?.flush() ?? Promise.resolve();
  }
}
