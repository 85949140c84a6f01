// Holds the last good weights snapshot. Watches the file's directory (editors save by rename,
// Kubernetes swaps a ConfigMap's ..data symlink) plus a 1 s poll as a safety net; an invalid edit
// is rejected and the last good snapshot stays in force. Admin changes are written back atomically.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseWeights, withWeights, WeightsError } from './parse.ts';
import type { WeightsFile, WeightsUpdate } from './schema.ts';
import { toSnapshot, type WeightsSnapshot } from './snapshot.ts';

export interface ReloadFailure {
  path: string;
  message: string;
  at: string;
}

export interface ReloadHooks {
  onReload?: (ok: boolean) => void;
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
  lastFailure: ReloadFailure | null = null;
  lastSuccessAt: string;

  private constructor(
    readonly file: string,
    text: string,
    parsed: WeightsFile,
    private readonly log: Logger,
    private readonly hooks: ReloadHooks,
  ) {
    this.lastText = text;
    this.lastGoodText = text;
    this.current = toSnapshot(parsed, this.generation);
    this.lastSuccessAt = this.current.loadedAt;
  }

  /** Reads and validates the file; a start-up with an invalid file fails with the field's path. */
  static async open(file: string, log: Logger, hooks: ReloadHooks = {}): Promise<WeightsStore> {
    const text = await fsp.readFile(file, 'utf8');
    return new WeightsStore(path.resolve(file), text, parseWeights(text), log, hooks);
  }

  get snapshot(): WeightsSnapshot {
    return this.current;
  }

  onChange(listener: (s: WeightsSnapshot) => void): void {
    this.listeners.push(listener);
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

  /** Re-reads the file; returns true when a new snapshot took effect. */
  async reload(): Promise<boolean> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      // Mid-rename the file can be briefly absent; the next event or poll retries.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      this.fail(new WeightsError('/', `cannot read ${this.file}: ${(err as Error).message}`));
      return false;
    }
    if (text === this.lastText) return false;
    this.lastText = text;
    try {
      this.apply(parseWeights(text));
      this.lastGoodText = text;
      this.log.info({ generation: this.generation, file: this.file }, 'weights reloaded');
      return true;
    } catch (err) {
      this.fail(err as WeightsError);
      return false;
    }
  }

  /** Validates new weights, writes the file atomically (temp + rename) and applies them. */
  async update(change: WeightsUpdate): Promise<WeightsSnapshot> {
    const known = this.current.file.environments;
    for (const name of Object.keys(change.weights)) {
      if (!known[name]) throw new WeightsError(`/weights/${name}`, `unknown environment (known: ${Object.keys(known).join(', ')})`);
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
    this.hooks.onReload?.(true);
    for (const l of this.listeners) l(this.current);
  }

  private fail(err: WeightsError | Error): void {
    const failure = { path: err instanceof WeightsError ? err.path : '/', message: err.message, at: new Date().toISOString() };
    this.lastFailure = failure;
    this.hooks.onReload?.(false);
    this.log.error({ field: failure.path, reason: err.message, file: this.file }, 'weights file rejected; the last good config stays in force');
  }
}
