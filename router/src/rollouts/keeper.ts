// Where rollouts are kept between steps, so that a restarted router, or another router elected
// controller, goes on from the step in force: the rollouts file (embedded: one router), or the
// routers' control state in the store, where a step's weights and the step itself are written in
// one commit (no step applied twice, none recorded without its weights).
import fsp from 'node:fs/promises';
import { writeDurably } from '../../../shared/durable-file.ts';
import { StateConflictError, StateStoreUnavailableError } from '../../../shared/errors.ts';
import type { ControlState } from '../state/control-state.ts';
import type { Leadership } from '../state/leader.ts';
import type { WeightsUpdate } from '../weights/schema.ts';
import type { UpdateOptions, WeightsStore } from '../weights/store.ts';
import type { AnalysisSpec } from './analysis.ts';
import type { BanditRun } from './bandit-runner.ts';
import type { RolloutView } from './schema.ts';
import type { StepPlan } from './steps.ts';

/** A rollout as it is kept. */
export interface Rollout {
  view: RolloutView;
  plan: StepPlan;
  analysis: AnalysisSpec | false;
  backupBefore: Record<string, boolean>;
  stepAppliedAt: number;
  /** When waiting for a sample (re)started: the step's pause end, or a resume after a wait ran out. */
  waitFrom?: number;
}

export interface SavedRollouts {
  current: Rollout | null;
  last: Rollout | null;
  /** The bandit (running, paused, or the last one stopped), kept beside the rollouts: never both at once. */
  bandit?: BanditRun | null;
}

export interface WeightsWith {
  change: WeightsUpdate;
  options: UpdateOptions;
}

export interface RolloutKeeper {
  /** What is kept and its version (nothing kept: both null). */
  load(): Promise<{ saved: SavedRollouts; version: number }>;
  /**
   * Keeps `saved`, computed from `version`, with the weights change if one is given: applied first,
   * all or nothing where the keeper can. `fenced`: refused once this router no longer leads.
   * Resolves with the new version; throws StateConflictError when the rollouts changed meanwhile.
   */
  commit(saved: SavedRollouts, version: number, weights: WeightsWith | undefined, fenced: boolean): Promise<number>;
  /** Called when another router changed the rollouts (never, with one router). */
  onChange(listener: (version: number) => void): void;
}

export class FileKeeper implements RolloutKeeper {
  private version = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly weights: WeightsStore,
    private readonly file: string | undefined,
  ) {}

  async load(): Promise<{ saved: SavedRollouts; version: number }> {
    if (!this.file) return { saved: { current: null, last: null }, version: 0 };
    try {
      return { saved: JSON.parse(await fsp.readFile(this.file, 'utf8')) as SavedRollouts, version: this.version };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { saved: { current: null, last: null }, version: 0 };
    }
  }

  async commit(saved: SavedRollouts, _version: number, weights: WeightsWith | undefined): Promise<number> {
    if (weights) await this.weights.update(weights.change, weights.options);
    const file = this.file;
    if (file) {
      const text = `${JSON.stringify(saved)}\n`;
      const write = this.writing.then(() => writeDurably(file, `${file}.${process.pid}.tmp`, text));
      this.writing = write.catch(() => {});
      await write;
    }
    return ++this.version;
  }

  onChange(): void {}
}

export class StoreKeeper implements RolloutKeeper {
  private known = 0;

  constructor(
    private readonly control: ControlState,
    private readonly weights: WeightsStore,
    private readonly leadership: Leadership,
  ) {}

  async load(): Promise<{ saved: SavedRollouts; version: number }> {
    const s = await this.control.read();
    this.known = s.rolloutsVersion;
    return { saved: s.rollouts ? (JSON.parse(s.rollouts) as SavedRollouts) : { current: null, last: null }, version: s.rolloutsVersion };
  }

  async commit(saved: SavedRollouts, version: number, weights: WeightsWith | undefined, fenced: boolean): Promise<number> {
    if (!this.control.up) throw new StateStoreUnavailableError('the rollout change');
    const record = JSON.stringify(saved);
    if (weights) {
      let committed = version;
      await this.weights.update(weights.change, { ...weights.options, fenced, rollouts: { record, version, committed: (v) => (committed = v) } });
      return (this.known = committed);
    }
    let result;
    try {
      result = await this.control.commit({ rolloutsVersion: version, rollouts: record, ...(fenced ? { fence: this.leadership.token ?? '-' } : {}) });
    } catch (err) {
      throw new StateStoreUnavailableError('the rollout change', { cause: err });
    }
    if (!result.ok) throw new StateConflictError(result.reason === 'fenced' ? 'this router no longer leads the controller' : 'the rollout was changed meanwhile, through another router');
    return (this.known = result.rolloutsVersion);
  }

  onChange(listener: (version: number) => void): void {
    this.control.onChange((_generation, version) => {
      if (version !== this.known) {
        this.known = version;
        listener(version);
      }
    });
  }
}
