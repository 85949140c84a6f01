// Rollouts, as Argo Rollouts runs a canary strategy, inside the router: each step's weights are
// applied as an admin change is (cause recorded), held for the pause, then analysed (analysis.ts)
// until conclusive: a pass moves to the next step, a fail rolls back to the weights before the
// rollout at once. Pause, resume, abort; rollback in one call. Every step, analysis and rollback is
// an entry of the decision trail.
//
// Every change is kept (keeper.ts) before it is acknowledged, so a restarted router goes on from the
// step in force. With several routers any of them takes admin calls, and only the elected
// controller (leader.ts) runs the steps: its writes carry its fencing token, and each commit is
// checked against the version it was computed from, so no step is applied twice.
import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { BanditRunningError, NoRolloutError, NothingToRollBackError, RolloutConflictError, RolloutInvalidError, StateConflictError, StateStoreUnavailableError } from '../../../shared/errors.ts';
import type { HistoryEntry } from '../history/schema.ts';
import type { Leadership } from '../state/leader.ts';
import type { WindowsView } from '../stats/windows.ts';
import type { WeightsSnapshot } from '../weights/snapshot.ts';
import { weightsOf, type WeightsStore } from '../weights/store.ts';
import { analyze, ANALYSIS_DEFAULTS, type DriftVerdict } from './analysis.ts';
import { BanditRunner, type BanditRun } from './bandit-runner.ts';
import type { Rollout, RolloutKeeper, SavedRollouts, WeightsWith } from './keeper.ts';
import type { RolloutRequest, RolloutsView, RolloutView } from './schema.ts';
import { defaultBaseline, stepsAhead, stepsProblem, stepWeights } from './steps.ts';

/** How often a step's analysis is tried once its pause is over. */
const ANALYSIS_TICK_MS = 1000;

export interface RolloutDeps {
  weights: WeightsStore;
  stats: WindowsView;
  /** Can any replica of the environment take traffic now? */
  available: (environment: string) => boolean;
  /** What drift monitoring says of an environment (null: not tested yet), for analyses that ask. */
  drift?: (environment: string) => DriftVerdict | null;
  /** Feedback so far per environment, and the experiment's age (for the accuracy check). */
  feedback: { of: (environment: string) => { correct: number; n: number }; seconds: () => number };
  record: (entry: Omit<HistoryEntry, 'at'>) => void;
  log: Logger;
  keeper: RolloutKeeper;
  leadership: Leadership;
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

const withView = (rollout: Rollout, fields: Partial<RolloutView>): Rollout => ({ ...rollout, view: { ...rollout.view, ...fields, updated_at: new Date().toISOString() } });

export class RolloutManager {
  private current: Rollout | null = null;
  private last: Rollout | null = null;
  private banditRun: BanditRun | null = null;
  /** The multi-armed bandit: kept and run beside the rollouts, never at the same time as one. */
  readonly bandit: BanditRunner;
  private version = 0;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: RolloutDeps) {
    this.bandit = new BanditRunner(
      {
        serially: (work) => this.serially(work),
        bandit: () => this.banditRun,
        rollout: () => (this.current ? { id: this.current.view.id, target: this.current.plan.target } : null),
        commitBandit: (bandit, weights, fenced) => this.commit({ current: this.current, last: this.last, bandit }, weights, fenced),
        restorable: (weights, backup) => restorable(this.deps.weights.snapshot, weights, backup),
      },
      deps,
    );
  }

  /**
   * Picks up what is kept: a rollout in progress goes on from its step (its weights are in force
   * already, so none is applied twice; its analysis waits for a new sample), a paused one stays
   * paused. Then follows the changes other routers make, and leadership.
   */
  async open(): Promise<void> {
    await this.serially(async () => {
      let kept;
      try {
        kept = await this.deps.keeper.load();
      } catch (err) {
        // The store away at start: read when it is back (its version then differs from none).
        this.deps.log.warn({ err: (err as Error).message }, 'rollouts could not be read at start; they are read once the store is back');
        return;
      }
      this.adopt(kept.saved, kept.version);
      if (this.banditRun && this.banditRun.view.state !== 'stopped' && this.deps.leadership.leading) this.deps.record({ kind: 'bandit', action: 'restored', message: `bandit over ${this.banditRun.view.arms.join(', ')} picked up by ${this.deps.leadership.view().router_id}, ${this.banditRun.view.state}`, bandit_id: this.banditRun.view.id });
      this.bandit.schedule();
      const rollout = this.current;
      if (!rollout) return;
      if (this.deps.leadership.leading) this.trail(rollout, 'restored', `rollout of ${rollout.plan.target} picked up by ${this.deps.leadership.view().router_id} at ${this.at(rollout)}, ${rollout.view.state}`);
      // This router's windows start empty: the step's analysis reads only what it has seen since.
      this.current = { ...rollout, stepAppliedAt: Math.max(rollout.stepAppliedAt, Date.now() - rollout.view.pause_seconds * 1000) };
      this.schedule();
    });
    this.deps.keeper.onChange(() => void this.serially(() => this.reload()).catch((err: unknown) => this.deps.log.warn({ err }, 'rollouts could not be read from the store')));
    this.deps.leadership.onChange((leading) =>
      void this.serially(async () => {
        if (!leading) {
          this.bandit.clearTimer();
          return this.clearTimer();
        }
        await this.reload();
        if (this.current) this.trail(this.current, 'restored', `rollout of ${this.current.plan.target} picked up by ${this.deps.leadership.view().router_id}, now the controller, at ${this.at(this.current)}, ${this.current.view.state}`);
      }).catch((err: unknown) => this.deps.log.warn({ err }, 'rollouts could not be read from the store')),
    );
  }

  views(): Static<typeof RolloutsView> {
    return { current: this.current?.view ?? null, last: this.last?.view ?? null, controller: this.deps.leadership.view() };
  }

  /** Is this environment part of the rollout in progress? */
  involves(environment: string): boolean {
    return this.current !== null && (this.current.plan.target === environment || this.current.plan.baseline === environment);
  }

  start(request: RolloutRequest): Promise<RolloutView> {
    return this.serially(async () => {
      if (this.current) throw new RolloutConflictError(this.current.view.id, this.current.view.target);
      const bandit = this.bandit.holding;
      if (bandit) throw new BanditRunningError(bandit.view.arms.join(', '));
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
      this.trail(rollout, 'started', `rollout of ${request.target} from ${baseline} started: steps ${steps.join(' → ')}, ${rollout.view.pause_seconds} s each`);
      try {
        await this.applyStep(rollout, 0, false);
      } catch (err) {
        this.trail(rollout, 'failed', `rollout of ${request.target} could not start: ${(err as Error).message}`);
        throw err;
      }
      return this.current!.view;
    });
  }

  pause(): Promise<RolloutView> {
    return this.serially(async () => {
      const rollout = this.active();
      if (rollout.view.state === 'paused') return rollout.view;
      const paused = withView(rollout, { state: 'paused', message: `paused at ${this.at(rollout)}` });
      await this.commit({ current: paused, last: this.last });
      this.clearTimer();
      this.trail(paused, 'paused', paused.view.message);
      return paused.view;
    });
  }

  resume(): Promise<RolloutView> {
    return this.serially(async () => {
      const rollout = this.active();
      if (rollout.view.state !== 'paused') return rollout.view;
      // A step that ran out of waiting for its sample waits afresh.
      const resumed = { ...withView(rollout, { state: 'progressing', message: `resumed at ${this.at(rollout)}` }), waitFrom: Date.now() };
      await this.commit({ current: resumed, last: this.last });
      this.trail(resumed, 'resumed', resumed.view.message);
      this.schedule();
      return resumed.view;
    });
  }

  /** Stops the rollout and puts the weights back as they were before it. */
  abort(reason = 'aborted through the admin API'): Promise<RolloutView> {
    return this.serially(async () => (await this.revert(this.active(), 'aborted', reason, false)).view);
  }

  /**
   * One call back to safety: aborts the rollout in progress, or else puts back the weights from
   * before the last change (a finished rollout's starting weights, or the previous weights).
   */
  rollback(previous: () => Promise<{ weights: Record<string, number>; backup?: Record<string, boolean> } | undefined>): Promise<{ weights: Record<string, number> }> {
    return this.serially(async () => {
      if (this.current) {
        const reverted = await this.revert(this.current, 'aborted', 'rolled back through the admin API', false);
        return { weights: reverted.view.weights_before };
      }
      const bandit = this.bandit.holding;
      if (bandit) {
        await this.bandit.end(bandit, 'rolled back through the admin API', true);
        return { weights: bandit.view.weights_before };
      }
      const completed = this.last && this.last.view.state === 'completed' ? this.last : null;
      const target = completed ? { weights: completed.view.weights_before, backup: completed.backupBefore } : await previous();
      if (!target) throw new NothingToRollBackError();
      const weights: WeightsWith = {
        change: restorable(this.deps.weights.snapshot, target.weights, target.backup),
        options: { cause: 'rollback', detail: { message: 'rolled back to the weights before the last change' } },
      };
      await this.commit({ current: null, last: completed ? withView(completed, { state: 'aborted', message: 'rolled back after completion' }) : this.last }, weights);
      return { weights: target.weights };
    });
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.bandit.close();
  }

  private serially<R>(work: () => Promise<R>): Promise<R> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private active(): Rollout {
    if (!this.current) throw new NoRolloutError();
    return this.current;
  }

  private at(rollout: Rollout): string {
    return `step ${rollout.view.step_index + 1} (${rollout.view.step_percent}%)`;
  }

  /**
   * Keeps the next state (with a weights change, all or nothing where the keeper can), then makes
   * it this router's. A change another router made meanwhile refuses it: the state is read again.
   */
  private async commit(change: SavedRollouts, weights?: WeightsWith, fenced = false): Promise<void> {
    const next = { bandit: this.banditRun, ...change };
    try {
      this.version = await this.deps.keeper.commit(next, this.version, weights, fenced);
    } catch (err) {
      if (err instanceof StateConflictError) await this.reload();
      throw err;
    }
    this.current = next.current;
    this.last = next.last;
    this.banditRun = next.bandit ?? null;
  }

  private adopt(saved: SavedRollouts, version: number): void {
    this.current = saved.current;
    this.last = saved.last;
    this.banditRun = saved.bandit ?? null;
    this.version = version;
  }

  /** Takes what another router kept, and (as the controller) goes on with it. */
  private async reload(): Promise<void> {
    const { saved, version } = await this.deps.keeper.load();
    this.adopt(saved, version);
    this.schedule();
    this.bandit.schedule();
  }

  private trail(rollout: Rollout, action: string, message: string, checks?: HistoryEntry['checks']): void {
    this.deps.record({ kind: 'rollout', action, environment: rollout.plan.target, rollout_id: rollout.view.id, message, ...(checks ? { checks } : {}) });
  }

  private async applyStep(rollout: Rollout, index: number, fenced: boolean): Promise<void> {
    const percent = rollout.plan.steps[index];
    const message = `step ${index + 1} of ${rollout.plan.steps.length}: ${percent}% of ${rollout.plan.baseline}+${rollout.plan.target} traffic on ${rollout.plan.target}`;
    const next = { ...withView(rollout, { step_index: index, step_percent: percent, phase: 'pausing', message }), stepAppliedAt: Date.now() };
    await this.commit({ current: next, last: this.last }, { change: stepWeights(rollout.view.weights_before, rollout.plan, index), options: { cause: 'rollout_step', detail: { rollout_id: rollout.view.id, message: `rollout ${message}` } } }, fenced);
    this.schedule();
  }

  /** As the controller: the next look at the rollout in progress, when its pause is over (and not before `atLeastMs`). */
  private schedule(atLeastMs = 0): void {
    this.clearTimer();
    const rollout = this.current;
    if (!rollout || rollout.view.state !== 'progressing' || !this.deps.leadership.leading || this.closed) return;
    const pauseLeft = rollout.stepAppliedAt + rollout.view.pause_seconds * 1000 - Date.now();
    this.timer = setTimeout(() => void this.serially(() => this.tick(rollout.view.id)).catch(() => {}), Math.max(atLeastMs, rollout.view.phase === 'pausing' ? pauseLeft : ANALYSIS_TICK_MS));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async tick(id: string): Promise<void> {
    const rollout = this.current;
    if (!rollout || rollout.view.id !== id || rollout.view.state !== 'progressing' || !this.deps.leadership.leading) return;
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
        }, rollout.analysis.drift ? this.deps.drift?.(rollout.plan.target) : null);
        const analysed = withView(rollout, { phase: 'analyzing', last_analysis: { at: new Date().toISOString(), verdict: result.verdict, summary: result.summary, checks: result.checks } });
        if (result.verdict === 'inconclusive') {
          const step = rollout.view.step_index + 1;
          const waitFrom = Math.max(rollout.waitFrom ?? 0, rollout.stepAppliedAt + rollout.view.pause_seconds * 1000);
          // Rollouts kept before the limit existed get the default.
          const maxWait = rollout.analysis.max_wait_seconds ?? ANALYSIS_DEFAULTS.max_wait_seconds;
          if (Date.now() - waitFrom >= maxWait * 1000) {
            const message = `step ${step}: no sample after waiting ${maxWait} s (${result.summary}); paused: resume to wait again, or abort`;
            const paused = withView(analysed, { state: 'paused', message });
            this.deps.record({ kind: 'analysis', action: 'inconclusive', environment: rollout.plan.target, rollout_id: rollout.view.id, message: `step ${step} analysis inconclusive: ${result.summary}`, checks: result.checks });
            await this.commit({ current: paused, last: this.last }, undefined, true);
            this.clearTimer();
            return this.trail(paused, 'paused', message);
          }
          await this.commit({ current: withView(analysed, { message: `step ${step}: waiting for a sample: ${result.summary}` }), last: this.last }, undefined, true);
          return this.schedule();
        }
        this.deps.record({ kind: 'analysis', action: result.verdict, environment: rollout.plan.target, rollout_id: rollout.view.id, message: `step ${rollout.view.step_index + 1} analysis ${result.verdict === 'pass' ? 'passed' : 'failed'}: ${result.summary}`, checks: result.checks });
        if (result.verdict === 'fail') return void (await this.revert(analysed, 'failed', `step ${rollout.view.step_index + 1} analysis failed: ${result.summary}`, true));
        if (rollout.view.step_index === rollout.plan.steps.length - 1) return await this.finish(analysed);
        return await this.applyStep(analysed, rollout.view.step_index + 1, true);
      }
      if (rollout.view.step_index === rollout.plan.steps.length - 1) return await this.finish(rollout);
      await this.applyStep(rollout, rollout.view.step_index + 1, true);
    } catch (err) {
      if (err instanceof StateConflictError) return; // another router changed it (or leads now): reloaded
      // The store away: the rollout waits where it is (GET /admin/rollouts says why) and goes on when it is back.
      if (err instanceof StateStoreUnavailableError) return this.schedule(ANALYSIS_TICK_MS);
      this.deps.log.error({ err, rollout: rollout.view.id }, 'rollout step failed; the rollout is paused');
      const paused = withView(this.current ?? rollout, { state: 'paused', message: `paused: ${(err as Error).message}` });
      await this.commit({ current: paused, last: this.last }, undefined, true).catch((e: unknown) => this.deps.log.error({ err: e }, 'the paused rollout could not be kept'));
    }
  }

  private async finish(rollout: Rollout): Promise<void> {
    const done = withView(rollout, { state: 'completed', phase: 'done', message: `${rollout.plan.target} takes all of ${rollout.plan.baseline}'s traffic${rollout.plan.keepBackup ? `; ${rollout.plan.baseline} kept as backup` : ''}` });
    await this.commit({ current: null, last: done }, undefined, true);
    this.clearTimer();
    this.trail(done, 'completed', `rollout of ${rollout.plan.target} completed: ${done.view.message}`);
  }

  /** Ends the rollout and puts the weights from before it back, in one commit: a reader who sees `failed` sees them restored. */
  private async revert(rollout: Rollout, state: 'aborted' | 'failed', reason: string, fenced: boolean): Promise<Rollout> {
    const ended = withView(rollout, { state, phase: 'done', message: `${reason}; weights restored to those before the rollout` });
    const weights: WeightsWith = {
      change: restorable(this.deps.weights.snapshot, rollout.view.weights_before, rollout.backupBefore),
      options: { cause: 'rollback', detail: { rollout_id: rollout.view.id, message: `rollout of ${rollout.plan.target} ${state}: ${reason}; weights restored` } },
    };
    await this.commit({ current: null, last: ended }, weights, fenced);
    this.clearTimer();
    this.trail(ended, state, ended.view.message);
    return ended;
  }
}
