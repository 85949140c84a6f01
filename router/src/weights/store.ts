// Holds the weights in force as a frozen snapshot for the data path, over the watched weights file
// (shared/config-file/watched-file.ts: hot reload, invalid edits rejected with the field's path and
// the last good weights kept). Admin changes keep the user's comments and are written atomically.
import type { Logger } from 'pino';
import { WatchedFile, type FileRejection } from '../../../shared/config-file/watched-file.ts';
import { parseWeights, weightsError, withWeights } from './parse.ts';
import type { WeightsFile, WeightsUpdate } from './schema.ts';
import { toSnapshot, type WeightsSnapshot } from './snapshot.ts';

export type ReloadFailure = FileRejection;

/** Why the weights changed: an edit of the file, or who changed them through the router. */
export type WeightsCause = 'file_edit' | 'admin' | 'rollout_step' | 'guard' | 'rollback';

export interface WeightsChange {
  cause: WeightsCause;
  before: WeightsSnapshot;
  after: WeightsSnapshot;
  /** What the change was made for (a rollout and its step, a guard's decision). */
  detail?: Record<string, unknown>;
}

export const weightsOf = (s: WeightsSnapshot): Record<string, number> => Object.fromEntries(s.environments.map((e) => [e.name, e.weight]));

export class WeightsStore {
  private current: WeightsSnapshot;
  private generation = 1;
  private readonly listeners: ((change: WeightsChange) => void)[] = [];
  /** The cause of the change being written by update(), if any (else a change is a file edit). */
  private pending: Omit<WeightsChange, 'before' | 'after'> | null = null;

  private constructor(
    private readonly source: WatchedFile<WeightsFile>,
    private readonly log: Logger,
  ) {
    this.current = toSnapshot(source.value, this.generation);
    source.onChange((file) => {
      const before = this.current;
      this.current = toSnapshot(file, ++this.generation);
      const change: WeightsChange = { cause: 'file_edit', ...this.pending, before, after: this.current };
      this.log.info({ generation: this.generation, cause: change.cause, weights: weightsOf(this.current) }, 'weights in force');
      for (const l of this.listeners) l(change);
    });
  }

  /** Reads and validates the file; a start-up with an invalid file fails with the field's path. */
  static async open(file: string, log: Logger): Promise<WeightsStore> {
    return new WeightsStore(await WatchedFile.open(file, parseWeights, log), log);
  }

  get file(): string {
    return this.source.file;
  }

  get snapshot(): WeightsSnapshot {
    return this.current;
  }

  get lastFailure(): ReloadFailure | null {
    return this.source.lastFailure;
  }

  get lastSuccessAt(): string {
    return this.source.lastSuccessAt;
  }

  /** Called with each change of the weights in force: why, and the snapshots before and after. */
  onChange(listener: (change: WeightsChange) => void): void {
    this.listeners.push(listener);
  }

  /** Called after each read or update of the file: true when it took effect, false when rejected. */
  onReload(listener: (ok: boolean) => void): void {
    this.source.onReload(listener);
  }

  watch(pollMs = 1000): void {
    this.source.watch(pollMs);
  }

  close(): void {
    this.source.close();
  }

  reload(): Promise<boolean> {
    return this.source.reload();
  }

  /**
   * Validates new weights, writes the file atomically (temp + rename) and applies them, recording
   * why. An environment the file does not name yet is added when `running` says it has replicas.
   */
  async update(
    change: WeightsUpdate,
    o: { cause: WeightsCause; detail?: Record<string, unknown>; running?: (environment: string) => boolean } = { cause: 'admin' },
  ): Promise<WeightsSnapshot> {
    await this.source.update((file, text) => {
      const known = Object.keys(file.environments);
      for (const name of [...Object.keys(change.weights), ...Object.keys(change.backup ?? {})]) {
        if (!known.includes(name) && !o.running?.(name)) throw weightsError(`/weights/${name}`, `unknown environment: neither in the weights file nor running any replica (known: ${known.join(', ')})`);
      }
      // Set just before the write applies (update() runs serially), read by the change listener.
      this.pending = { cause: o.cause, detail: o.detail };
      return withWeights(text, change);
    }).finally(() => (this.pending = null));
    return this.current;
  }
}
