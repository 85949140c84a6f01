// A configuration file held as its last good value: read and validated at start (an invalid file
// fails the start with the field's path), then watched. The file's directory is watched (editors
// save by rename, Kubernetes swaps a ConfigMap's ..data symlink), with a poll as a safety net. A
// valid edit takes effect; an invalid one is rejected, reported, and the last good value stays.
// Edits made by the process itself are validated whole and written atomically (temp + rename).
// Reads and writes run one at a time, in order. The weights file and the deployment file use it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeDurably } from '../durable-file.ts';
import { ConfigReadOnlyError } from '../errors.ts';

/** Write errors that mean the file is not ours to write (a ConfigMap mount, a read-only volume). */
const READ_ONLY = new Set(['EROFS', 'EACCES', 'EPERM']);

/** What lastText holds while the file is gone, or after it could not be read (no text a file has). */
const MISSING = '\u0000missing';
const UNREADABLE = '\u0000unreadable';

/** How long a write is given to settle before a text that fails validation is read again. */
const SETTLE_MS = 100;
/** Editors write in several steps; a burst of events is read once. */
const DEBOUNCE_MS = 50;

export interface FileRejection {
  /** The field at fault, as a JSON pointer ('/' for the whole file). */
  path: string;
  message: string;
  at: string;
}

/** Parses and validates a text; throws an error with the field's `path` when it is invalid. */
export type ParseFile<T> = (text: string) => T;

export class WatchedFile<T> {
  private current: T;
  /** The last text read, valid or not (an unchanged text is not read twice). */
  private lastText: string;
  private goodText: string;
  private watcher: fs.FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly changeListeners: ((value: T) => void)[] = [];
  private readonly reloadListeners: ((ok: boolean) => void)[] = [];
  lastFailure: FileRejection | null = null;
  lastSuccessAt = new Date().toISOString();

  private constructor(
    readonly file: string,
    text: string,
    value: T,
    private readonly parse: ParseFile<T>,
    private readonly log: Logger,
  ) {
    this.lastText = text;
    this.goodText = text;
    this.current = value;
  }

  static async open<T>(file: string, parse: ParseFile<T>, log: Logger): Promise<WatchedFile<T>> {
    const text = await fsp.readFile(file, 'utf8');
    const watched = new WatchedFile(path.resolve(file), text, parse(text), parse, log);
    await watched.removeStaleTemporaries();
    return watched;
  }

  /** Temporary files a process killed mid-write left beside the file (they never replaced it). */
  private async removeStaleTemporaries(): Promise<void> {
    const dir = path.dirname(this.file);
    const prefix = `.${path.basename(this.file)}.`;
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(prefix) && name.endsWith('.tmp') && /^\d+$/.test(name.slice(prefix.length, -4))) await fsp.rm(path.join(dir, name), { force: true }).catch(() => {});
    }
  }

  get value(): T {
    return this.current;
  }

  /** The text behind the value in force. */
  get lastGoodText(): string {
    return this.goodText;
  }

  /** Called with each new value in force. */
  onChange(listener: (value: T) => void): void {
    this.changeListeners.push(listener);
  }

  /** Called after each read or write that found a new text: true when it took effect. */
  onReload(listener: (ok: boolean) => void): void {
    this.reloadListeners.push(listener);
  }

  watch(pollMs = 1000): void {
    this.watcher = fs.watch(path.dirname(this.file), () => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    });
    this.watcher.on('error', (err) => this.log.warn({ err, file: this.file }, 'file watcher error; polling continues'));
    this.poll = setInterval(() => void this.reload(), pollMs);
    this.poll.unref();
  }

  close(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** Re-reads the file; resolves true when a new value took effect. */
  reload(): Promise<boolean> {
    return this.serially(() => this.reloadOnce());
  }

  /**
   * Writes the text `edit` makes of the value and text in force: validated whole first (a throw
   * leaves the file untouched), then written atomically and applied.
   */
  update(edit: (value: T, text: string) => string): Promise<T> {
    return this.serially(async () => {
      const text = edit(this.current, this.goodText);
      const value = this.parse(text);
      const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
      try {
        await writeDurably(this.file, tmp, text);
      } catch (err) {
        if (READ_ONLY.has(String((err as NodeJS.ErrnoException).code))) throw new ConfigReadOnlyError(this.file, { cause: err });
        throw err;
      }
      this.lastText = text;
      this.apply(value, text);
      return value;
    });
  }

  private serially<R>(work: () => Promise<R>): Promise<R> {
    const next = this.queue.then(work);
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async read(): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      // Mid-rename the file can be briefly absent; the next event or poll reads it.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw Object.assign(new Error(`cannot read ${this.file}: ${(err as Error).message}`), { path: '/' });
    }
  }

  private async reloadOnce(): Promise<boolean> {
    let text: string | undefined;
    try {
      text = await this.read();
      if (text === undefined) {
        if (this.lastText === MISSING) return false;
        // Absent for a moment mid-rename is normal; absent after the write has settled is not.
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        if ((await this.read()) !== undefined) return this.reloadOnce();
        this.lastText = MISSING;
        throw Object.assign(new Error(`${this.file} is missing`), { path: '/' });
      }
      if (text === this.lastText) return false;
      let value: T;
      try {
        value = this.parse(text);
      } catch (err) {
        // A save in place (truncate, then write) can be read half-written: look again once the
        // write has settled, and reject only a text that stays.
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const again = await this.read();
        if (again !== undefined && again !== text) return this.reloadOnce();
        throw err;
      }
      this.lastText = text;
      this.apply(value, text);
      this.log.info({ file: this.file }, 'file reloaded');
      return true;
    } catch (err) {
      // Remember what was rejected so a poll does not reject it again; a file that could not be
      // read at all is read afresh next time, so the same good text coming back clears the failure.
      if (text !== undefined) this.lastText = text;
      else if (this.lastText !== MISSING) this.lastText = UNREADABLE;
      this.reject(err as Error & { path?: string });
      return false;
    }
  }

  private apply(value: T, text: string): void {
    this.current = value;
    this.goodText = text;
    this.lastSuccessAt = new Date().toISOString();
    this.lastFailure = null;
    for (const l of this.reloadListeners) l(true);
    for (const l of this.changeListeners) l(value);
  }

  private reject(err: Error & { path?: string }): void {
    this.lastFailure = { path: err.path ?? '/', message: err.message, at: new Date().toISOString() };
    for (const l of this.reloadListeners) l(false);
    this.log.error({ field: this.lastFailure.path, reason: err.message, file: this.file }, 'file rejected; the last good version stays in force');
  }
}
