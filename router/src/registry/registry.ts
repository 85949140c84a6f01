// The model registry: each model version's stage (candidate → staging → production → archived) with
// who moved it, when and why, and the one release in progress. A version never moved is a
// candidate; production holds one version per model, so moving one there archives the one it
// replaces (kept, as the backup a rollback goes to). Every move and every step of a release is a
// decision in the trail.
import { ReleaseNotCurrentError, ReleaseRunningError, StageUnknownVersionError } from '../../../shared/errors.ts';
import type { HistoryEntry } from '../history/schema.ts';
import type { RegistryKeeper } from './keeper.ts';
import type { ReleaseClaimView, ReleaseRecord, ReleaseStart, ReleasesView, ReleaseUpdate, Stage, StageChange, StageMove, StageRecord } from './schema.ts';

/** Moves kept per version. */
const MOVES_KEPT = 20;

export const stageKey = (model: string, version: string) => `${model}@${version}`;

type RecordDecision = (entry: Omit<HistoryEntry, 'at'>) => unknown;

export class ModelRegistry {
  constructor(
    private readonly keeper: RegistryKeeper,
    private readonly record: RecordDecision,
    /** The bundles the controller reported (null: no controller, any name goes). */
    private readonly known: () => { model: string; version: string }[] | null,
  ) {}

  async stages(): Promise<StageRecord[]> {
    const state = await this.keeper.read();
    return Object.values(state.stages).sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version, undefined, { numeric: true }));
  }

  /** Moves a version to a stage; answers every record that changed (none: it was there already). */
  async setStage(model: string, version: string, change: StageChange): Promise<StageRecord[]> {
    const known = this.known();
    if (known && !known.some((k) => k.model === model && k.version === version)) {
      throw new StageUnknownVersionError(model, version, known.map((k) => `${k.model} ${k.version}`).join(', ') || 'none');
    }
    const at = new Date().toISOString();
    const by = change.by ?? 'admin API';
    const releaseId = change.release_id ?? null;
    const moves: { record: StageRecord; move: StageMove }[] = [];
    const changed = await this.keeper.update((state) => {
      moves.length = 0; // computed again when another router changed the registry meanwhile
      const out: StageRecord[] = [];
      const moveTo = (m: string, v: string, to: Stage, reason: string) => {
        const key = stageKey(m, v);
        const before = state.stages[key];
        if (before?.stage === to) return;
        const move: StageMove = { from: before?.stage ?? null, to, at, by, reason, release_id: releaseId };
        const record: StageRecord = { model: m, version: v, stage: to, since: at, moves: [...(before?.moves ?? []), move].slice(-MOVES_KEPT) };
        state.stages[key] = record;
        out.push(record);
        moves.push({ record, move });
      };
      if (change.stage === 'production') {
        for (const other of Object.values(state.stages)) {
          if (other.model === model && other.version !== version && other.stage === 'production') moveTo(model, other.version, 'archived', `replaced in production by ${version}; kept as the backup`);
        }
      }
      moveTo(model, version, change.stage, change.reason ?? 'set through the admin API');
      return out;
    });
    for (const { record, move } of moves) {
      this.record({
        kind: 'stage',
        action: move.to,
        message: `${record.model} ${record.version}: ${move.from ?? 'candidate'} → ${move.to} (${move.reason}; by ${move.by})`,
        model: record.model,
        model_version: record.version,
        ...(releaseId ? { release_id: releaseId } : {}),
      });
    }
    return changed;
  }

  async releases(): Promise<ReleasesView> {
    return (await this.keeper.read()).release;
  }

  /**
   * Starts a release, or resumes it: the same bundle (same digest) being released goes on from its
   * steps (in the environment it chose), with the new process as its holder; any other refuses
   * while one is in progress.
   */
  async claimRelease(start: ReleaseStart): Promise<ReleaseClaimView> {
    const now = new Date().toISOString();
    const claim = await this.keeper.update((state): ReleaseClaimView => {
      const current = state.release.current;
      if (current) {
        if (current.model === start.model && current.version === start.version && current.digest === start.digest) {
          current.holder = start.holder;
          current.updated_at = now;
          return { resumed: true, release: current };
        }
        const step = current.steps.at(-1);
        throw new ReleaseRunningError(`${current.id} (${current.model} ${current.version}, held by ${current.holder}${step ? `, at ${step.name}` : ''})`);
      }
      const release: ReleaseRecord = {
        id: `${start.model}-${start.version}-${now.replace(/[-:]/g, '').replace(/\..*/, '')}`,
        ...start,
        state: 'running',
        started_at: now,
        updated_at: now,
        steps: [],
        outcome: null,
        facts: {},
      };
      state.release.current = release;
      return { resumed: false, release };
    });
    const r = claim.release;
    this.record({ kind: 'release', action: claim.resumed ? 'resumed' : 'started', message: `release ${r.id}: ${r.model} ${r.version} ${claim.resumed ? `resumed by ${r.holder}` : `started by ${r.holder}`}, to ${r.environment}`, model: r.model, model_version: r.version, release_id: r.id, environment: r.environment });
    return claim;
  }

  /** Records a release's progress; a final state ends it (it becomes the last one). */
  async updateRelease(update: ReleaseUpdate): Promise<ReleaseRecord> {
    const now = new Date().toISOString();
    const finished: ReleaseRecord['steps'] = [];
    const release = await this.keeper.update((state) => {
      finished.length = 0;
      const current = state.release.current;
      if (!current || current.id !== update.id) throw new ReleaseNotCurrentError(update.id);
      if (update.steps) {
        for (const step of update.steps) {
          const before = current.steps.find((s) => s.name === step.name && s.started_at === step.started_at);
          if (step.state !== 'running' && before?.state !== step.state) finished.push(step);
        }
        current.steps = update.steps;
      }
      if (update.outcome !== undefined) current.outcome = update.outcome;
      if (update.facts) current.facts = { ...current.facts, ...update.facts };
      if (update.state) current.state = update.state;
      current.updated_at = now;
      if (current.state !== 'running') {
        state.release.last = current;
        state.release.current = null;
      }
      return current;
    });
    const about = { model: release.model, model_version: release.version, release_id: release.id };
    for (const step of finished) this.record({ kind: 'release', action: `${step.name}_${step.state}`, message: `release ${release.id}: ${step.name} ${step.state}: ${step.summary}`, ...about });
    if (release.state !== 'running') this.record({ kind: 'release', action: release.state, message: `release ${release.id}: ${release.state}${release.outcome ? `: ${release.outcome}` : ''}`, ...about });
    return release;
  }
}
