// Rollouts, as Argo Rollouts runs a canary strategy, inside the router: each step's weights are
// written to the weights file as an admin edit is (atomic, comments kept, cause recorded), held for
// the pause, then analysed (analysis.ts) until conclusive: a pass moves to the next step, a fail
// rolls back to the weights before the rollout at once. Pause, resume, abort; rollback in one call.
// Every step, analysis and rollback is an entry of the decision trail.
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import { writeDurably } from '../../../shared/durable-file.ts';
import type { Logger } from 'pino';
import { NoRolloutError, NothingToRollBackError, RolloutConflictError, RolloutInvalidError } from '../../../shared/errors.ts';
import type { HistoryEntry } from '../history/schema.ts';
import type { StatsWindows } from '../stats/windows.ts';
import type { WeightsSnapshot } from '../weights/snapshot.ts';
import { weightsOf, type WeightsStore } from '../weights/store.ts';
import { analyze, ANALYSIS_DEFAULTS, type AnalysisSpec } from './analysis.ts';
import type { RolloutRequest, RolloutView } from './schema.ts';
import { defaultBaseline, stepsAhead, stepsProblem, stepWeights, type StepPlan } from './steps.ts';

/** How often a step's analysis is tried once its pause is over. */
const ANALYSIS_TICK_MS = 1000;

export interface RolloutDeps {
  weights: WeightsStore;
  stats: StatsWindows;
  /** Can any replica of the environment take traffic now? */
  available: (environment: string) => boolean;
  /** Feedback so far per environment, and the experiment's age (for the accuracy check). */
  feedback: { of: (environment: string) => { correct: number; n: number }; seconds: () => number };
  record: (entry: Omit<HistoryEntry, 'at'>) => void;
  log: Logger;
  /** Where the rollout in progress (and the last) is kept, so that a restarted router goes on with it. */
  file?: string;
}

/** What the rollouts file holds: everything of a rollout but its timer. */
type SavedRollout = Omit<Rollout, 'timer'>;
interface SavedRollouts {
  current: SavedRollout | null;
  last: SavedRollout | null;
}

interface Rollout {
  view: RolloutView;
  plan: StepPlan;
  analysis: AnalysisSpec | false;
  backupBefore: Record<string, boolean>;
  stepAppliedAt: number;
  timer: NodeJS.Timeout | null;
}

const backupsOf = (s: WeightsSnapshot) => Object.fromEntries(s.environments.map((e) => [e.name, e.backup]));

/** Earlier weights, for the environments the file still names (one removed since cannot come back). */
function restorable(now: WeightsSnapshot, weights: Record<string, number>, backup: Record<string, boolean> = {}) {
  const named = (name: string) => now.environments.some((e) => e.name === name);
  return {
    weights: Object.fromEntries(Object.entries(weights).filter(([name]) => named(name))),
    backup: Object.fromEntries(Object.entries(backup).filter(([name]) => named(name))),
  };
}

export class RolloutManager {
  private current: Rollout | null = null;
  private last: Rollout | null = null;

  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RolloutDeps) {}

  /**
   * Picks up what the rollouts file says: a rollout in progress goes on from its step (the step's
   * weights are in the weights file already, so none is applied twice; its analysis waits for a new
   * sample), a paused one stays paused.
   */
  async restore(): Promise<void> {
    if (!this.deps.file) return;
    let saved: SavedRollouts;
    try {
      saved = JSON.parse(await fsp.readFile(this.deps.file, 'utf8')) as SavedRollouts;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log.error({ err, file: this.deps.file }, 'the rollouts file cannot be read: starting without it');
      return;
    }
    this.last = saved.last && { ...saved.last, timer: null };
    if (!saved.current) return;
    const rollout: Rollout = { ...saved.current, timer: null };
    this.current = rollout;
    const at = `step ${rollout.view.step_index + 1} (${rollout.view.step_percent}%)`;
    this.trail(rollout, 'restored', `rollout of ${rollout.plan.target} picked up after a router restart at ${at}, ${rollout.view.state}`);
    if (rollout.view.state === 'progressing') {
      // The windows start empty: the step's analysis reads only what this router has seen since.
      rollout.stepAppliedAt = Math.max(rollout.stepAppliedAt, Date.now() - rollout.view.pause_seconds * 1000);
      this.update(rollout, { phase: 'pausing', message: `${rollout.view.message} (picked up after a restart)` });
      this.schedule(rollout);
    }
  }

  /** Resolves once every change so far is in the rollouts file. */
  saved(): Promise<void> {
    return this.saving;
  }

  private save(): void {
    const file = this.deps.file;
    if (!file) return;
    const strip = (r: Rollout | null): SavedRollout | null => r && { view: r.view, plan: r.plan, analysis: r.analysis, backupBefore: r.backupBefore, stepAppliedAt: r.stepAppliedAt };
    const text = `${JSON.stringify({ current: strip(this.current), last: strip(this.last) } satisfies SavedRollouts)}\n`;
    this.saving = this.saving.then(() => writeDurably(file, `${file}.${process.pid}.tmp`, text)).catch((err: unknown) => this.deps.log.error({ err, file }, 'the rollouts file could not be written'));
  }

  views(): { current: RolloutView | null; last: RolloutView | null } {
    return { current: this.current?.view ?? null, last: this.last?.view ?? null };
  }

  /** Is this environment part of the rollout in progress? */
  involves(environment: string): boolean {
    return this.current !== null && (this.current.plan.target === environment || this.current.plan.baseline === environment);
  }

  async start(request: RolloutRequest): Promise<RolloutView> {
    if (this.current) throw new RolloutConflictError(this.current.view.id, this.current.view.target);
    const snapshot = this.deps.weights.snapshot;
    const before = weightsOf(snapshot);
    const names = Object.keys(before);
    if (!names.includes(request.target)) throw new RolloutInvalidError(`target "${request.target}" is not in the weights file (known: ${names.join(', ')})`);
    const baseline = request.baseline ?? defaultBaseline(before, request.target);
    if (!baseline || baseline === request.target) throw new RolloutInvalidError('name a baseline environment other than the target');
    if (!names.includes(baseline)) throw new RolloutInvalidError(`baseline "${baseline}" is not in the weights file (known: ${names.join(', ')})`);
    // Traffic given to a target that cannot take it would fail over, and its analysis wait forever.
    if (!this.deps.available(request.target)) throw new RolloutInvalidError(`no replica of ${request.target} can take traffic now`);
    const asked = request.steps ?? [25, 50, 75, 100];
    const problem = stepsProblem(asked);
    if (problem) throw new RolloutInvalidError(problem);
    const steps = stepsAhead(before, request.target, baseline, asked);
    const now = new Date().toISOString();
    const rollout: Rollout = {
      plan: { target: request.target, baseline, steps, keepBackup: request.keep_backup ?? true },
      analysis: request.analysis === false ? false : { ...ANALYSIS_DEFAULTS, ...request.analysis },
      backupBefore: backupsOf(snapshot),
      stepAppliedAt: 0,
      timer: null,
      view: {
        id: randomUUID(),
        state: 'progressing',
        target: request.target,
        baseline,
        steps,
        step_index: 0,
        step_percent: steps[0],
        phase: 'pausing',
        pause_seconds: request.pause_seconds ?? 30,
        keep_backup: request.keep_backup ?? true,
        weights_before: before,
        started_at: now,
        updated_at: now,
        message: 'starting',
        last_analysis: null,
      },
    };
    this.current = rollout;
    this.trail(rollout, 'started', `rollout of ${request.target} from ${baseline} started: steps ${steps.join(' → ')}, ${rollout.view.pause_seconds} s each`);
    await this.applyStep(rollout, 0);
    return rollout.view;
  }

  pause(): RolloutView {
    const rollout = this.active();
    if (rollout.view.state === 'paused') return rollout.view;
    this.clearTimer(rollout);
    this.update(rollout, { state: 'paused', message: `paused at step ${rollout.view.step_index + 1} (${rollout.view.step_percent}%)` });
    this.trail(rollout, 'paused', rollout.view.message);
    return rollout.view;
  }

  resume(): RolloutView {
    const rollout = this.active();
    if (rollout.view.state !== 'paused') return rollout.view;
    this.update(rollout, { state: 'progressing', message: `resumed at step ${rollout.view.step_index + 1} (${rollout.view.step_percent}%)` });
    this.trail(rollout, 'resumed', rollout.view.message);
    this.schedule(rollout);
    return rollout.view;
  }

  /** Stops the rollout and puts the weights back as they were before it. */
  async abort(reason = 'aborted through the admin API'): Promise<RolloutView> {
    const rollout = this.active();
    await this.revert(rollout, 'aborted', reason);
    return rollout.view;
  }

  /**
   * One call back to safety: aborts the rollout in progress, or else puts back the weights from
   * before the last change (a finished rollout's starting weights, or the previous weights).
   */
  async rollback(previous: () => { weights: Record<string, number>; backup?: Record<string, boolean> } | undefined): Promise<{ weights: Record<string, number> }> {
    if (this.current) {
      await this.abort('rolled back through the admin API');
      return { weights: this.last?.view.weights_before ?? {} };
    }
    const target = this.last && this.last.view.state === 'completed' ? { weights: this.last.view.weights_before, backup: this.last.backupBefore } : previous();
    if (!target) throw new NothingToRollBackError();
    await this.deps.weights.update(restorable(this.deps.weights.snapshot, target.weights, target.backup), { cause: 'rollback', detail: { message: 'rolled back to the weights before the last change' } });
    if (this.last && this.last.view.state === 'completed') this.update(this.last, { state: 'aborted', message: 'rolled back after completion' });
    return { weights: target.weights };
  }

  close(): void {
    if (this.current) this.clearTimer(this.current);
  }

  private active(): Rollout {
    if (!this.current) throw new NoRolloutError();
    return this.current;
  }

  private update(rollout: Rollout, fields: Partial<RolloutView>): void {
    rollout.view = { ...rollout.view, ...fields, updated_at: new Date().toISOString() };
    this.save();
  }

  private trail(rollout: Rollout, action: string, message: string, checks?: HistoryEntry['checks']): void {
    this.deps.record({ kind: 'rollout', action, environment: rollout.plan.target, rollout_id: rollout.view.id, message, ...(checks ? { checks } : {}) });
  }

  private async applyStep(rollout: Rollout, index: number): Promise<void> {
    const percent = rollout.plan.steps[index];
    const message = `step ${index + 1} of ${rollout.plan.steps.length}: ${percent}% of ${rollout.plan.baseline}+${rollout.plan.target} traffic on ${rollout.plan.target}`;
    await this.deps.weights.update(stepWeights(rollout.view.weights_before, rollout.plan, index), { cause: 'rollout_step', detail: { rollout_id: rollout.view.id, message: `rollout ${message}` } });
    rollout.stepAppliedAt = Date.now();
    this.update(rollout, { step_index: index, step_percent: percent, phase: 'pausing', message });
    this.schedule(rollout);
  }

  private schedule(rollout: Rollout): void {
    this.clearTimer(rollout);
    const pauseLeft = rollout.stepAppliedAt + rollout.view.pause_seconds * 1000 - Date.now();
    rollout.timer = setTimeout(() => void this.tick(rollout), Math.max(0, rollout.view.phase === 'pausing' ? pauseLeft : ANALYSIS_TICK_MS));
    rollout.timer.unref();
  }

  private clearTimer(rollout: Rollout): void {
    if (rollout.timer) clearTimeout(rollout.timer);
    rollout.timer = null;
  }

  private async tick(rollout: Rollout): Promise<void> {
    if (this.current !== rollout || rollout.view.state !== 'progressing') return;
    try {
      if (rollout.analysis) {
        // Only what happened since this step's weights took effect counts.
        const window = Math.max(1, Math.min(rollout.analysis.window_seconds, Math.floor((Date.now() - rollout.stepAppliedAt) / 1000)));
        const spec = { ...rollout.analysis, window_seconds: window };
        const { feedback } = this.deps;
        const result = analyze(this.deps.stats.of(rollout.plan.target, window), this.deps.stats.of(rollout.plan.baseline, window), spec, {
          target: feedback.of(rollout.plan.target),
          baseline: feedback.of(rollout.plan.baseline),
          seconds: feedback.seconds(),
        });
        this.update(rollout, { phase: 'analyzing', last_analysis: { at: new Date().toISOString(), verdict: result.verdict, summary: result.summary, checks: result.checks } });
        if (result.verdict === 'inconclusive') {
          this.update(rollout, { message: `step ${rollout.view.step_index + 1}: waiting for a sample: ${result.summary}` });
          return this.schedule(rollout);
        }
        this.deps.record({ kind: 'analysis', action: result.verdict, environment: rollout.plan.target, rollout_id: rollout.view.id, message: `step ${rollout.view.step_index + 1} analysis ${result.verdict === 'pass' ? 'passed' : 'failed'}: ${result.summary}`, checks: result.checks });
        if (result.verdict === 'fail') return await this.revert(rollout, 'failed', `step ${rollout.view.step_index + 1} analysis failed: ${result.summary}`);
      }
      if (rollout.view.step_index === rollout.plan.steps.length - 1) return this.finish(rollout);
      await this.applyStep(rollout, rollout.view.step_index + 1);
    } catch (err) {
      this.deps.log.error({ err, rollout: rollout.view.id }, 'rollout step failed; the rollout is paused');
      this.update(rollout, { state: 'paused', message: `paused: ${(err as Error).message}` });
    }
  }

  private finish(rollout: Rollout): void {
    this.clearTimer(rollout);
    this.update(rollout, { state: 'completed', phase: 'done', message: `${rollout.plan.target} takes all of ${rollout.plan.baseline}'s traffic${rollout.plan.keepBackup ? `; ${rollout.plan.baseline} kept as backup` : ''}` });
    this.trail(rollout, 'completed', `rollout of ${rollout.plan.target} completed: ${rollout.view.message}`);
    this.last = rollout;
    this.current = null;
    this.save();
  }

  private async revert(rollout: Rollout, state: 'aborted' | 'failed', reason: string): Promise<void> {
    this.clearTimer(rollout);
    this.current = null;
    this.last = rollout;
    // The weights are back before the rollout says so: a reader who sees `failed` sees them restored.
    try {
      await this.deps.weights.update(
        restorable(this.deps.weights.snapshot, rollout.view.weights_before, rollout.backupBefore),
        { cause: 'rollback', detail: { rollout_id: rollout.view.id, message: `rollout of ${rollout.plan.target} ${state}: ${reason}; weights restored` } },
      );
      this.update(rollout, { state, phase: 'done', message: `${reason}; weights restored to those before the rollout` });
    } catch (err) {
      this.update(rollout, { state, phase: 'done', message: `${reason}; restoring the weights failed: ${(err as Error).message}` });
      throw err;
    } finally {
      this.trail(rollout, state, rollout.view.message);
    }
  }
}
