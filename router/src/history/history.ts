// The decision trail: every change of weights with its cause (a file edit, an admin call, a rollout
// step, a guard, a rollback) and the weights before and after, and every automated decision with
// what it was made on (metric, value, threshold, window, sample, action). Kept in memory for the
// admin API and appended, one JSON line each, to a file, so it survives a router restart.
import fsp from 'node:fs/promises';
import type { Logger } from 'pino';
import type { HistoryEntry } from './schema.ts';

/** Appends a line and waits until it is on disk (entries are few: weight changes and decisions). */
async function appendDurably(file: string, line: string): Promise<void> {
  const handle = await fsp.open(file, 'a', 0o600);
  try {
    await handle.appendFile(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Entries kept in memory (and read back from the file at start). */
const KEPT = 2000;

export class History {
  private readonly entries: HistoryEntry[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Reads the last entries of the file (a torn last line is skipped). */
  static async open(file: string | undefined, log: Logger): Promise<History> {
    const history = new History(file, log);
    if (!file) return history;
    const text = await fsp.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    for (const line of text.split('\n').slice(-KEPT - 1)) {
      if (!line.trim()) continue;
      try {
        history.entries.push(JSON.parse(line) as HistoryEntry);
      } catch {
        log.warn({ file }, 'history: a line that is not JSON was skipped');
      }
    }
    return history;
  }

  record(entry: Omit<HistoryEntry, 'at'>): HistoryEntry {
    const full = { at: new Date().toISOString(), ...entry } as HistoryEntry;
    this.entries.push(full);
    if (this.entries.length > KEPT) this.entries.splice(0, this.entries.length - KEPT);
    if (this.file) {
      const file = this.file;
      this.writing = this.writing
        .then(() => appendDurably(file, `${JSON.stringify(full)}\n`))
        .catch((err: unknown) => this.log.error({ err, file }, 'history: could not append to the file'));
    }
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
    return this.writing;
  }
}
