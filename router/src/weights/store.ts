// Holds the weights in force as a frozen snapshot for the data path, over the watched weights file
// (shared/config-file/watched-file.ts: hot reload, invalid edits rejected with the field's path and
// the last good weights kept). Admin changes keep the user's comments and are written atomically.
import type { Logger } from 'pino';
import { WatchedFile, type FileRejection } from '../../../shared/config-file/watched-file.ts';
import { parseWeights, weightsError, withWeights } from './parse.ts';
import type { WeightsFile, WeightsUpdate } from './schema.ts';
import { toSnapshot, type WeightsSnapshot } from './snapshot.ts';

export type ReloadFailure = FileRejection;

export class WeightsStore {
  private current: WeightsSnapshot;
  private generation = 1;
  private readonly listeners: ((s: WeightsSnapshot) => void)[] = [];

  private constructor(
    private readonly source: WatchedFile<WeightsFile>,
    private readonly log: Logger,
  ) {
    this.current = toSnapshot(source.value, this.generation);
    source.onChange((file) => {
      this.current = toSnapshot(file, ++this.generation);
      this.log.info({ generation: this.generation }, 'weights in force');
      for (const l of this.listeners) l(this.current);
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

  /** Called with each new snapshot in force. */
  onChange(listener: (s: WeightsSnapshot) => void): void {
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
   * Validates new weights, writes the file atomically (temp + rename) and applies them. An
   * environment the file does not name yet is added when `running` says it has replicas.
   */
  async update(change: WeightsUpdate, running: (environment: string) => boolean = () => false): Promise<WeightsSnapshot> {
    await this.source.update((file, text) => {
      const known = Object.keys(file.environments);
      for (const name of Object.keys(change.weights)) {
        if (!known.includes(name) && !running(name)) throw weightsError(`/weights/${name}`, `unknown environment: neither in the weights file nor running any replica (known: ${known.join(', ')})`);
      }
      return withWeights(text, change.weights);
    });
    this.log.info({ generation: this.generation, weights: change.weights }, 'weights updated through the admin API');
    return this.current;
  }
}
