// The decision trail: every change of weights with its cause (a file edit, an admin call, a rollout
// step, a guard, a rollback) and the weights before and after, and every automated decision with
// what it was made on (metric, value, threshold, window, sample, action).
//
// Embedded, it is kept in memory for the admin API and appended, one JSON line each, to a file, so
// it survives a router restart. Shared, it is a Redis stream every router appends to and reads
// (the store's append-only file with fsync always: acknowledged means on disk); an entry made while
// the store is away waits here and is sent when it is back.
import { AppendLog, readJsonLines } from '../../../shared/durable-file.ts';
import type { Logger } from 'pino';
import { StateStoreUnavailableError } from '../../../shared/errors.ts';
import type { StateStore } from '../state/store.ts';
import type { HistoryEntry } from './schema.ts';

/** Entries kept (in memory, or in the stream) and searched by list(). */
const KEPT = 2000;
/** Entries read from the stream per round trip while filtering. */
const PAGE = 250;
/** How often entries that could not be sent are sent again. */
const RESEND_MS = 1000;

export interface ListOptions {
  limit: number;
  environment?: string;
  kind?: string;
}

const matches = (e: HistoryEntry, o: ListOptions) =>
  (!o.kind || e.kind === o.kind) && (!o.environment || e.environment === o.environment || (e.weights_after !== undefined && o.environment in e.weights_after));

export interface History {
  record(entry: Omit<HistoryEntry, 'at'>): HistoryEntry;
  /** Newest first. */
  list(o: ListOptions): Promise<HistoryEntry[]>;
  /** Waits for what was recorded so far to be durable: before a change is acknowledged, and on close. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const stamp = (entry: Omit<HistoryEntry, 'at'>) => ({ at: new Date().toISOString(), ...entry }) as HistoryEntry;

export class FileHistory implements History {
  private readonly entries: HistoryEntry[] = [];
  private readonly appended: AppendLog | undefined;

  private constructor(
    file: string | undefined,
    private readonly log: Logger,
  ) {
    this.appended = file ? new AppendLog(file) : undefined;
  }

  /** Reads the last entries of the file (a torn last line is skipped). */
  static async open(file: string | undefined, log: Logger): Promise<FileHistory> {
    const history = new FileHistory(file, log);
    if (!file) return history;
    const entries = await readJsonLines<HistoryEntry>(file, () => log.warn({ file }, 'history: a line that is not JSON was skipped'));
    history.entries.push(...entries.slice(-KEPT));
    return history;
  }

  record(entry: Omit<HistoryEntry, 'at'>): HistoryEntry {
    const full = stamp(entry);
    this.entries.push(full);
    if (this.entries.length > KEPT) this.entries.splice(0, this.entries.length - KEPT);
    this.appended?.append(full).catch((err: unknown) => this.log.error({ err, file: this.appended?.file }, 'history: could not append to the file'));
    return full;
  }

  async list(o: ListOptions): Promise<HistoryEntry[]> {
    const out: HistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < o.limit; i--) if (matches(this.entries[i], o)) out.push(this.entries[i]);
    return out;
  }

  flush(): Promise<void> {
    return this.appended?.flush() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.flush();
  }
}

export class SharedHistory implements History {
  private unsent: HistoryEntry[] = [];
  private sending: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: StateStore,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.send().catch(() => {}), RESEND_MS);
    this.timer.unref();
  }

  private get key(): string {
    return `${this.state.prefix}history`;
  }

  record(entry: Omit<HistoryEntry, 'at'>): HistoryEntry {
    const full = stamp(entry);
    this.unsent.push(full);
    if (this.unsent.length > KEPT) this.unsent.splice(0, this.unsent.length - KEPT);
    void this.send().catch(() => {});
    return full;
  }

  /** Sends what waits, in order, one batch at a time. */
  private send(): Promise<void> {
    this.sending ??= (async () => {
      try {
        while (this.unsent.length > 0) {
          if (!this.state.up) throw new Error('the state store cannot be reached');
          const batch = this.unsent.slice(0, 100);
          const pipeline = this.state.redis.multi();
          for (const e of batch) pipeline.xadd(this.key, 'MAXLEN', '~', String(KEPT), '*', 'entry', JSON.stringify(e));
          const results = await pipeline.exec();
          const failure = results?.find(([err]) => err)?.[0];
          if (failure) throw failure;
          this.state.answered();
          this.unsent.splice(0, batch.length);
        }
      } catch (err) {
        if (this.state.up) this.state.failed('history', err);
        this.log.warn({ err: (err as Error).message, waiting: this.unsent.length }, 'history: entries wait for the state store');
        throw new StateStoreUnavailableError('the decision trail', { cause: err });
      }
    })().finally(() => (this.sending = null));
    return this.sending;
  }

  async list(o: ListOptions): Promise<HistoryEntry[]> {
    const out = this.unsent.filter((e) => matches(e, o)).reverse().slice(0, o.limit);
    let end = '+';
    for (let read = 0; out.length < o.limit && read < KEPT; read += PAGE) {
      const page = await this.state.redis.xrevrange(this.key, end, '-', 'COUNT', PAGE);
      for (const [, fields] of page) {
        const e = JSON.parse(fields[1]) as HistoryEntry;
        if (matches(e, o) && out.length < o.limit) out.push(e);
      }
      if (page.length < PAGE) break;
      end = `(${page[page.length - 1][0]}`;
    }
    return out;
  }

  flush(): Promise<void> {
    return this.unsent.length === 0 && !this.sending ? Promise.resolve() : this.send();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => this.log.error({ lost: this.unsent.length }, 'history: entries not sent to the state store before the router stopped'));
  }
}
