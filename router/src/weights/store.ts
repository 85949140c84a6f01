// Holds the weights in force as a frozen snapshot for the data path, over the watched weights file
// (shared/config-file/watched-file.ts: hot reload, invalid edits rejected with the field's path and
// the last good weights kept).
//
// Embedded (one router): admin, rollout, guard and rollback changes are written to the file itself,
// keeping the user's comments, atomically. Shared (several routers on one store): the file is the
// spec (it may be a read-only ConfigMap) and those changes are live state in the store
// (control-state.ts), with the store's generation; every router applies each change within a
// second. An edit of the file still applies, once, whichever routers see it.
import type { Logger } from 'pino';
import { WatchedFile, type FileRejection } from '../../../shared/config-file/watched-file.ts';
import { StateConflictError, StateStoreUnavailableError } from '../../../shared/errors.ts';
import { specHash, type ControlState, type LiveWeights } from '../state/control-state.ts';
import type { Leadership } from '../state/leader.ts';
import { parseWeights, validateWeights, weightsError, withWeights } from './parse.ts';
import type { WeightsFile, WeightsUpdate } from './schema.ts';
import { toSnapshot, type WeightsSnapshot } from './snapshot.ts';

export type ReloadFailure = FileRejection;

/** Why the weights changed: an edit of the file, or who changed them through the router. */
export type WeightsCause = 'file_edit' | 'admin' | 'rollout_step' | 'guard' | 'rollback' | 'bandit';

export interface WeightsChange {
  cause: WeightsCause;
  before: WeightsSnapshot;
  after: WeightsSnapshot;
  /** What the change was made for (a rollout and its step, a guard's decision). */
  detail?: Record<string, unknown>;
  /** Made by another router and applied here from the store (that router recorded it). */
  remote?: boolean;
}

export interface UpdateOptions {
  cause: WeightsCause;
  detail?: Record<string, unknown>;
  /** An environment the file does not name may be weighted when it runs replicas. */
  running?: (environment: string) => boolean;
  /** A controller's change (rollout step, guard): refused once this router no longer leads. */
  fenced?: boolean;
  /** With a store: the rollouts record written with the weights, all or nothing, and the version it was computed from. */
  rollouts?: { record: string; version: number; committed: (version: number) => void };
}

export const weightsOf = (s: WeightsSnapshot): Record<string, number> => Object.fromEntries(s.environments.map((e) => [e.name, e.weight]));

/** The spec with the live weights and backup marks over it (an environment only they name is added). */
function overlay(spec: WeightsFile, live: LiveWeights | null): WeightsFile {
  if (!live) return spec;
  const environments: WeightsFile['environments'] = {};
  for (const [name, e] of Object.entries(spec.environments)) {
    const backup = live.backup[name] ?? e.backup;
    const shadow = live.shadow?.[name] ?? e.shadow;
    const { shadow: _fromSpec, ...rest } = e;
    environments[name] = { ...rest, weight: live.weights[name] ?? e.weight, ...(backup === undefined ? {} : { backup }), ...(shadow ? { shadow } : {}) };
  }
  for (const [name, weight] of Object.entries(live.weights)) environments[name] ??= { weight, ...(live.backup[name] ? { backup: true } : {}), ...(live.shadow?.[name] ? { shadow: live.shadow[name] } : {}) };
  return { ...spec, environments };
}

const liveOf = (file: WeightsFile): LiveWeights => ({
  weights: Object.fromEntries(Object.entries(file.environments).map(([name, e]) => [name, e.weight])),
  backup: Object.fromEntries(Object.entries(file.environments).map(([name, e]) => [name, e.backup ?? false])),
  shadow: Object.fromEntries(Object.entries(file.environments).map(([name, e]) => [name, e.shadow ?? 0])),
});

/** Attempts at a change that another router's change keeps overtaking. */
const CONFLICT_ATTEMPTS = 5;

export interface SharedWeights {
  control: ControlState;
  leadership: Leadership;
  routerId: string;
}

export class WeightsStore {
  private current: WeightsSnapshot;
  private generation = 1;
  private readonly listeners: ((change: WeightsChange) => void)[] = [];
  /** The cause of the change being written by update(), if any (else a change is a file edit). */
  private pending: Omit<WeightsChange, 'before' | 'after'> | null = null;
  /** Shared: whether the file still has to be offered to the store. */
  private specUnsent = false;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  private constructor(
    private readonly source: WatchedFile<WeightsFile>,
    private readonly log: Logger,
    private readonly shared: SharedWeights | null,
  ) {
    // Shared, the generation is the store's (0 until it is read).
    if (shared) this.generation = 0;
    this.current = toSnapshot(source.value, this.generation);
    source.onChange((file) => {
      if (this.shared) return this.fileEdited(file);
      this.apply(toSnapshot(file, ++this.generation), { cause: 'file_edit', ...this.pending });
    });
  }

  /** Reads and validates the file; a start-up with an invalid file fails with the field's path. */
  static async open(file: string, log: Logger, shared: SharedWeights | null = null): Promise<WeightsStore> {
    const store = new WeightsStore(await WatchedFile.open(file, parseWeights, log), log, shared);
    if (shared) {
      shared.control.onChange((generation) => {
        if (store.specUnsent) void store.sendSpec(true);
        else if (generation !== store.generation) void store.refresh();
      });
      await store.sendSpec(true);
    }
    return store;
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

  /** 'file' (embedded: changes are written to the weights file) or 'store' (live state shared by the routers). */
  get mode(): 'file' | 'store' {
    return this.shared ? 'store' : 'file';
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

  private apply(after: WeightsSnapshot, change: Omit<WeightsChange, 'before' | 'after'>): void {
    const before = this.current;
    this.current = after;
    this.log.info({ generation: after.generation, cause: change.cause, ...(change.remote ? { remote: true } : {}), weights: weightsOf(after) }, 'weights in force');
    for (const l of this.listeners) l({ ...change, before, after });
  }

  /**
   * Validates new weights and applies them, recording why: embedded, written to the file atomically;
   * shared, committed to the store against the generation they were computed from (another
   * router's change in between: computed again). An environment the file does not name yet is
   * added when `running` says it has replicas.
   */
  async update(change: WeightsUpdate, o: UpdateOptions = { cause: 'admin' }): Promise<WeightsSnapshot> {
    const known = (names: string[]) => {
      for (const name of [...Object.keys(change.weights), ...Object.keys(change.backup ?? {}), ...Object.keys(change.shadow ?? {})]) {
        if (!names.includes(name) && !o.running?.(name)) throw weightsError(`/weights/${name}`, `unknown environment: neither in the weights file nor running any replica (known: ${names.join(', ')})`);
      }
    };
    if (this.shared) return this.commitShared(change, o, known);
    await this.source.update((file, text) => {
      known(Object.keys(file.environments));
      // Set just before the write applies (update() runs serially), read by the change listener.
      this.pending = { cause: o.cause, detail: o.detail };
      return withWeights(text, change);
    }).finally(() => (this.pending = null));
    return this.current;
  }

  private async commitShared(change: WeightsUpdate, o: UpdateOptions, known: (names: string[]) => void): Promise<WeightsSnapshot> {
    const { control, leadership, routerId } = this.shared!;
    for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt++) {
      if (!control.up) throw new StateStoreUnavailableError('a weights change');
      const base = this.current;
      known(Object.keys(base.file.environments));
      const live = liveOf(base.file);
      const next: LiveWeights = { weights: { ...live.weights, ...change.weights }, backup: { ...live.backup, ...change.backup }, shadow: { ...live.shadow, ...change.shadow } };
      const file = validateWeights(overlay(this.source.value, next));
      let result;
      try {
        result = await control.commit({
          generation: base.generation,
          weights: { ...next, cause: o.cause, by: routerId },
          ...(o.fenced ? { fence: leadership.token ?? '-' } : {}),
          ...(o.rollouts ? { rolloutsVersion: o.rollouts.version, rollouts: o.rollouts.record } : {}),
        });
      } catch (err) {
        throw new StateStoreUnavailableError('a weights change', { cause: err });
      }
      if (result.ok) {
        this.generation = result.generation;
        o.rollouts?.committed(result.rolloutsVersion);
        this.apply(toSnapshot(file, result.generation), { cause: o.cause, detail: o.detail });
        return this.current;
      }
      if (result.reason === 'fenced') throw new StateConflictError('this router no longer leads the controller');
      await this.refresh(); // another router's change came first: compute this one again on top of it
      if (o.rollouts) throw new StateConflictError('the rollout was changed meanwhile, through another router');
    }
    throw new StateConflictError('other routers kept changing the weights');
  }

  /** Reads the store's weights and applies them when they are newer than those in force here. */
  private refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const s = await this.shared!.control.read();
          if (s.weights && s.generation !== this.generation) this.adopt(s.generation, s.weights, true);
          // A store that lost its data (a new Redis): the file's weights are offered to it again.
          else if (!s.weights && this.generation > 0) {
            this.log.warn({ generation: this.generation }, 'weights: the store holds no weights; offering it the file');
            this.specUnsent = true;
          }
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'weights: the store could not be read; the weights in force stay');
        }
      } while (this.refreshAgain);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private adopt(generation: number, live: LiveWeights, remote: boolean): void {
    this.generation = generation;
    let file: WeightsFile;
    try {
      file = validateWeights(overlay(this.source.value, live));
    } catch (err) {
      this.log.error({ err: (err as Error).message, generation }, 'weights: the store holds weights that this router\'s file cannot take; the weights in force stay');
      return;
    }
    this.apply(toSnapshot(file, generation), { cause: (live.cause as WeightsCause | undefined) ?? 'admin', remote, detail: live.by ? { by: live.by } : undefined });
  }

  /** An edit of the file, seen by this router (perhaps by every router): applied, and offered to the store once. */
  private fileEdited(file: WeightsFile): void {
    // While the store is away the edit applies here at once, and is recorded when it is sent.
    if (!this.shared!.control.up) {
      this.apply(toSnapshot(file, this.generation), { cause: 'file_edit', remote: true });
    }
    void this.sendSpec(false);
  }

  /**
   * Offers the file's weights to the store. At start, a file the store has seen before is not an
   * edit: the live weights win (an older file, as a router still on the last ConfigMap has, is
   * reported). A file the store has not seen is an edit, applied once (the first router to offer
   * it records it).
   */
  private async sendSpec(startup: boolean): Promise<void> {
    const { control, routerId } = this.shared!;
    const hash = specHash(this.source.lastGoodText);
    this.specUnsent = true;
    if (!control.up) {
      if (startup) this.log.warn('weights: the state store cannot be reached; serving on the weights file until it can');
      return;
    }
    try {
      const s = await control.read();
      if (startup && s.weights && s.specs.includes(hash)) {
        if (s.spec !== hash) this.log.warn({ file: this.file }, 'weights: this file is older than the one the other routers applied last; the live weights stay in force');
        this.specUnsent = false;
        if (s.generation !== this.generation) this.adopt(s.generation, s.weights, true);
        return;
      }
      const live = liveOf(this.source.value);
      const result = await control.commit({ spec: hash, weights: { ...live, cause: 'file_edit', by: routerId } });
      this.specUnsent = false;
      if (!result.ok) return void (await this.refresh());
      this.generation = result.generation;
      this.apply(toSnapshot(this.source.value, result.generation), { cause: 'file_edit' });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'weights: the file could not be offered to the store; trying again');
    }
  }
}
