// Holds the last good weights snapshot. Watches the file's directory (editors save by rename,
// Kubernetes swaps a ConfigMap's ..data symlink) plus a 1 s poll as a safety net; an invalid edit
// is rejected and the last good snapshot stays in force. Admin changes are written back atomically.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseWeights, weightsError, withWeights, type WeightsError } from './parse.ts';
import type { WeightsFile, WeightsUpdate } from './schema.ts';
import { toSnapshot, type WeightsSnapshot } from './snapshot.ts';

/** How long a write is given to settle before a file that fails validation is read again. */
const SETTLE_MS = 100;

export interface ReloadFailure {
  path: string;
  message: string;
  at: string;
}

export class WeightsStore {
  private current: WeightsSnapshot;
  private lastText: string;
  /** The text behind the snapshot in force (lastText may be a rejected edit). */
  private lastGoodText: string;
  private generation = 1;
  private watcher: fs.FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private listeners: ((s: WeightsSnapshot) => void)[] = [];
  private reloadListeners: ((ok: boolean) => void)[] = [];
  private reloading: Promise<unknown> = Promise.resolve();
  lastFailure: ReloadFailure | null = null;
  lastSuccessAt: string;

  private constructor(
    readonly file: string,
    text: string,
    parsed: WeightsFile,
    private readonly log: Logger,
  ) {
    this.lastText = text;
    this.lastGoodText = text;
    this.current = toSnapshot(parsed, this.generation);
    this.lastSuccessAt = this.current.loadedAt;
  }

  /** Reads and validates the file; a start-up with an invalid file fails with the field's path. */
  static async open(file: string, log: Logger): Promise<WeightsStore> {
    const text = await fsp.readFile(file, 'utf8');
    return new WeightsStore(path.resolve(file), text, parseWeights(text), log);
  }

  get snapshot(): WeightsSnapshot {
    return this.current;
  }

  /** Called with each new snapshot in force. */
  onChange(listener: (s: WeightsSnapshot) => void): void {
    this.listeners.push(listener);
  }

  /** Called after each read or update of the file: true when it took effect, false when rejected. */
  onReload(listener: (ok: boolean) => void): void {
    this.reloadListeners.push(listener);
  }

  watch(pollMs = 1000): void {
    this.watcher = fs.watch(path.dirname(this.file), () => this.scheduleReload());
    this.watcher.on('error', (err) => this.log.warn({ err }, 'weights watcher error; polling continues'));
    this.poll = setInterval(() => void this.reload(), pollMs);
    this.poll.unref();
  }

  close(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private scheduleReload(): void {
    if (this.debounce) clearTimeout(this.debounce);
    // Editors write in several steps; wait for the burst to settle.
    this.debounce = setTimeout(() => void this.reload(), 50);
  }

  /** Re-reads the file; resolves true when a new snapshot took effect. */
  reload(): Promise<boolean> {
    return this.serially(() => this.reloadOnce());
  }

  /** Reads and writes of the file run one at a time, in order. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.reloading.then(work);
    this.reloading = next.then(
      () => false,
      () => false,
    );
    return next;
  }

  private async read(): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      // Mid-rename the file can be briefly absent; the next event or poll retries.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw weightsError('/', `cannot read ${this.file}: ${(err as Error).message}`);
    }
  }

  private async reloadOnce(): Promise<boolean> {
    let text: string | undefined;
    try {
      text = await this.read();
      if (text === undefined || text === this.lastText) return false;
      let parsed: WeightsFile;
      try {
        parsed = parseWeights(text);
      } catch (err) {
        // A save in place (truncate, then write) can be read half-written: look again once the
        // write has settled, and reject only a text that stays.
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const again = await this.read();
        if (again !== undefined && again !== text) return this.reloadOnce();
        throw err;
      }
      this.lastText = text;
      this.apply(parsed);
      this.lastGoodText = text;
      this.log.info({ generation: this.generation, file: this.file }, 'weights reloaded');
      return true;
    } catch (err) {
      if (text !== undefined) this.lastText = text;
      this.fail(err as WeightsError);
      return false;
    }
  }

  /** Validates new weights, writes the file atomically (temp + rename) and applies them. */
  update(change: WeightsUpdate): Promise<WeightsSnapshot> {
    return this.serially(() => this.write(change));
  }

  private async write(change: WeightsUpdate): Promise<WeightsSnapshot> {
    const known = this.current.file.environments;
    for (const name of Object.keys(change.weights)) {
      if (!known[name]) throw weightsError(`/weights/${name}`, `unknown environment (known: ${Object.keys(known).join(', ')})`);
    }
    const text = withWeights(this.lastGoodText, change.weights);
    const parsed = parseWeights(text); // the whole file is validated before anything is written
    const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    await fsp.writeFile(tmp, text, { mode: 0o644 });
    await fsp.rename(tmp, this.file);
    this.lastText = text;
    this.lastGoodText = text;
    this.apply(parsed);
    this.log.info({ generation: this.generation, weights: change.weights }, 'weights updated through the admin API');
    return this.current;
  }

  private apply(file: WeightsFile): void {
    this.current = toSnapshot(file, ++this.generation);
    this.lastSuccessAt = this.current.loadedAt;
    this.lastFailure = null;
    for (const l of this.reloadListeners) l(true);
    for (const l of this.listeners) l(this.current);
  }

  private fail(err: WeightsError | Error): void {
    const failure = { path: 'path' in err ? err.path : '/', message: err.message, at: new Date().toISOString() };
    this.lastFailure = failure;
    for (const l of this.reloadListeners) l(false);
    this.log.error({ field: failure.path, reason: err.message, file: this.file }, 'weights file rejected; the last good config stays in force');
  }
}
