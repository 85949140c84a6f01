// The bandit as the controller runs it: every interval, the feedback each arm has had since the
// bandit started becomes a posterior (experiments/bandit.ts), and the arms' weights are set to
// each one's chance of being the most accurate, held between the floor and the cap. Each change is
// a weight change with cause `bandit` and a `bandit` entry in the decision trail with every arm's
// posterior mean, interval, chance of being best and weight.
//
// The bandit is kept with the rollouts (keeper.ts), so it survives a restart and, with several
// routers, any router takes its admin calls while only the elected controller updates the weights
// (fenced writes). The guard and rollbacks win over it: an arm whose weight someone else set to 0
// (the guard's veto, an admin call) is excluded for good; `POST /admin/rollback` stops the bandit
// and puts back the weights from before it. A bandit and a rollout never run at once.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BanditInvalidError, BanditRunningError, NoBanditError, RolloutConflictError, StateConflictError, StateStoreUnavailableError } from '../../../shared/errors.ts';
import { allocate, posteriors } from '../experiments/bandit.ts';
import type { HistoryEntry } from '../history/schema.ts';
import type { Leadership } from '../state/leader.ts';
import { weightsOf, type WeightsStore } from '../weights/store.ts';
import type { BanditArm, BanditRequest, BanditView } from './bandit-schema.ts';
import type { WeightsWith } from './keeper.ts';

/** A bandit as it is kept. */
export interface BanditRun {
  view: BanditView;
  /** Each arm's feedback counts when the bandit started: it learns from what came after. */
  offsets: Record<string, { correct: number; n: number }>;
  backupBefore: Record<string, boolean>;
  /** The arms' weights as the bandit last set (or found) them: a difference is someone else's change. */
  lastSet: Record<string, number>;
}

/** What the rollout manager lends the bandit: its serial queue and its keeper. */
export interface BanditHost {
  serially<R>(work: () => Promise<R>): Promise<R>;
  bandit(): BanditRun | null;
  rollout(): { id: string; target: string } | null;
  commitBandit(next: BanditRun, weights?: WeightsWith, fenced?: boolean): Promise<void>;
  /** Weights to put back, limited to the environments the weights file still names. */
  restorable(weights: Record<string, number>, backup: Record<string, boolean>): WeightsWith['change'];
}

export interface BanditDeps {
  weights: WeightsStore;
  available: (environment: string) => boolean;
  feedback: { of: (environment: string) => { correct: number; n: number } };
  record: (entry: Omit<HistoryEntry, 'at'>) => void;
  log: Logger;
  leadership: Leadership;
}

const withView = (run: BanditRun, fields: Partial<BanditView>): BanditRun => ({ ...run, view: { ...run.view, ...fields, updated_at: new Date().toISOString() } });
const active = (run: BanditRun) => run.view.arms.filter((arm) => !run.view.excluded.some((e) => e.environment === arm));
const round1 = (x: number) => Math.round(x * 10) / 10;
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export class BanditRunner {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly host: BanditHost,
    private readonly deps: BanditDeps,
  ) {}

  view(): BanditView | null {
    return this.host.bandit()?.view ?? null;
  }

  /** Is a bandit setting (or holding) weights? A rollout waits until it is stopped. */
  get holding(): BanditRun | null {
    const run = this.host.bandit();
    return run && run.view.state !== 'stopped' ? run : null;
  }

  start(request: BanditRequest): Promise<BanditView> {
    return this.host.serially(async () => {
      const rollout = this.host.rollout();
      if (rollout) throw new RolloutConflictError(rollout.id, rollout.target);
      const holding = this.holding;
      if (holding) throw new BanditRunningError(holding.view.arms.join(', '));
      const snapshot = this.deps.weights.snapshot;
      const before = weightsOf(snapshot);
      const names = Object.keys(before);
      const unknown = request.arms.filter((arm) => !names.includes(arm));
      if (unknown.length) throw new BanditInvalidError(`arms: ${unknown.join(', ')} not in the weights file (known: ${names.join(', ')})`);
      const down = request.arms.filter((arm) => !this.deps.available(arm));
      if (down.length) throw new BanditInvalidError(`arms: no replica of ${down.join(', ')} can take traffic now`);
      const floor = request.floor_percent ?? 5;
      const cap = request.cap_percent ?? 90;
      const k = request.arms.length;
      if (floor * k > 100) throw new BanditInvalidError(`floor_percent: ${floor}% for each of ${k} arms is over 100%`);
      if (cap * k < 100) throw new BanditInvalidError(`cap_percent: ${cap}% for each of ${k} arms is under 100%`);
      if (floor > cap) throw new BanditInvalidError(`floor_percent: ${floor}% is over cap_percent ${cap}%`);
      const share = round1(request.arms.reduce((s, arm) => s + before[arm], 0));
      if (share <= 0) throw new BanditInvalidError('arms: they have no weight between them to share; give them some first');
      const now = new Date().toISOString();
      const run: BanditRun = {
        offsets: Object.fromEntries(request.arms.map((arm) => [arm, this.deps.feedback.of(arm)])),
        backupBefore: Object.fromEntries(snapshot.environments.map((e) => [e.name, e.backup])),
        lastSet: Object.fromEntries(request.arms.map((arm) => [arm, before[arm]])),
        view: {
          id: randomUUID(),
          state: 'running',
          arms: request.arms,
          excluded: [],
          floor_percent: floor,
          cap_percent: cap,
          interval_seconds: request.interval_seconds ?? 10,
          min_feedback: request.min_feedback ?? 20,
          min_change_percent: request.min_change_percent ?? 0.5,
          draws: request.draws ?? 10_000,
          seed: request.seed ?? null,
          share,
          weights_before: before,
          started_at: now,
          updated_at: now,
          updates: 0,
          message: `learning: the first update once every arm has ${request.min_feedback ?? 20} labels`,
          last_update: null,
        },
      };
      await this.host.commitBandit(run);
      this.trail(run, 'started', `bandit over ${run.view.arms.join(', ')} started: their ${share} of weight shared by Thompson sampling on feedback, every ${run.view.interval_seconds} s, each arm between ${floor}% and ${cap}%`);
      this.schedule();
      return run.view;
    });
  }

  pause(): Promise<BanditView> {
    return this.host.serially(async () => {
      const run = this.running();
      if (run.view.state === 'paused') return run.view;
      const paused = withView(run, { state: 'paused', message: `paused after ${run.view.updates} updates: the weights stay as they are` });
      await this.host.commitBandit(paused);
      this.clearTimer();
      this.trail(paused, 'paused', paused.view.message);
      return paused.view;
    });
  }

  resume(): Promise<BanditView> {
    return this.host.serially(async () => {
      const run = this.running();
      if (run.view.state !== 'paused') return run.view;
      // Weights changed while it was paused are the new starting point, not someone's veto.
      const resumed = withView({ ...run, lastSet: this.armWeights(run) }, { state: 'running', message: 'resumed' });
      await this.host.commitBandit(resumed);
      this.trail(resumed, 'resumed', resumed.view.message);
      this.schedule();
      return resumed.view;
    });
  }

  /** Stops updating; the weights stay as they are. */
  stop(reason = 'stopped through the admin API'): Promise<BanditView> {
    return this.host.serially(async () => (await this.end(this.running(), reason, false)).view);
  }

  /** Inside the host's queue: stops the bandit and, with `restore`, puts back the weights from before it. */
  async end(run: BanditRun, reason: string, restore: boolean, fenced = false): Promise<BanditRun> {
    const stopped = withView(run, { state: 'stopped', message: `${reason}${restore ? '; weights restored to those before the bandit' : '; the weights stay as they are'}` });
    const weights: WeightsWith | undefined = restore ? { change: this.host.restorable(run.view.weights_before, run.backupBefore), options: { cause: 'rollback', detail: { message: `bandit stopped: ${reason}; weights restored` } } } : undefined;
    await this.host.commitBandit(stopped, weights, fenced);
    this.clearTimer();
    this.trail(stopped, 'stopped', `bandit ${stopped.view.message}`);
    return stopped;
  }

  /** As the controller: the next update of a running bandit, one interval from now. */
  schedule(): void {
    this.clearTimer();
    const run = this.host.bandit();
    if (!run || run.view.state !== 'running' || !this.deps.leadership.leading || this.closed) return;
    const id = run.view.id;
    this.timer = setTimeout(() => void this.host.serially(() => this.tick(id)).catch(() => {}), run.view.interval_seconds * 1000);
    this.timer.unref();
  }

  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  private running(): BanditRun {
    const run = this.holding;
    if (!run) throw new NoBanditError();
    return run;
  }

  private armWeights(run: BanditRun): Record<string, number> {
    const now = weightsOf(this.deps.weights.snapshot);
    return Object.fromEntries(run.view.arms.filter((arm) => arm in now).map((arm) => [arm, now[arm]]));
  }

  private trail(run: BanditRun, action: string, message: string, arms?: BanditArm[]): void {
    this.deps.record({ kind: 'bandit', action, message, bandit_id: run.view.id, ...(arms ? { arms } : {}) });
  }

  private async tick(id: string): Promise<void> {
    let run = this.host.bandit();
    if (!run || run.view.id !== id || run.view.state !== 'running' || !this.deps.leadership.leading) return;
    try {
      run = await this.excludeVetoed(run);
      if (run.view.state !== 'running') return;
      await this.update(run);
    } catch (err) {
      if (err instanceof StateConflictError) return; // another router changed it (or leads now): reloaded
      if (!(err instanceof StateStoreUnavailableError)) this.deps.log.error({ err, bandit: id }, 'bandit update failed; trying again at the next interval');
    }
    this.schedule();
  }

  /** Arms someone else took out (the guard's veto, an admin change, a removal from the file) are excluded for good. */
  private async excludeVetoed(run: BanditRun): Promise<BanditRun> {
    const now = weightsOf(this.deps.weights.snapshot);
    const excluded = [...run.view.excluded];
    for (const arm of active(run)) {
      if (!(arm in now)) excluded.push({ environment: arm, reason: 'no longer in the weights file' });
      else if (now[arm] === 0 && (run.lastSet[arm] ?? 0) > 0) excluded.push({ environment: arm, reason: 'its weight was set to 0 by another change (the guard, an admin call or a rollback: see the decision trail)' });
    }
    if (excluded.length === run.view.excluded.length) return run;
    const added = excluded.slice(run.view.excluded.length);
    let next = withView(run, { excluded, message: `${added.map((e) => e.environment).join(', ')} excluded: ${added[0].reason}` });
    if (active(next).length < 2) {
      return this.end(next, `fewer than two arms left (${added.map((e) => `${e.environment}: ${e.reason}`).join('; ')})`, false, true);
    }
    await this.host.commitBandit(next, undefined, true);
    for (const e of added) this.trail(next, 'excluded', `bandit: ${e.environment} excluded, ${e.reason}`);
    next = this.host.bandit() ?? next;
    return next;
  }

  private async update(run: BanditRun): Promise<void> {
    const v = run.view;
    const arms = active(run);
    const now = weightsOf(this.deps.weights.snapshot);
    // The arms' weight as it stands: an admin change of their total is kept.
    const share = round1(arms.reduce((s, arm) => s + now[arm], 0));
    const offsets = { ...run.offsets };
    let rebased = false;
    const counts = arms.map((arm) => {
      const c = this.deps.feedback.of(arm);
      // The experiment was reset: its counts start again, and so do the bandit's.
      if (c.n < (offsets[arm]?.n ?? 0)) {
        offsets[arm] = { correct: 0, n: 0 };
        rebased = true;
      }
      const o = offsets[arm] ?? { correct: 0, n: 0 };
      return { environment: arm, correct: c.correct - o.correct, n: c.n - o.n };
    });
    const short = counts.filter((c) => c.n < v.min_feedback);
    if (short.length) {
      const message = `learning: ${short.map((c) => `${c.environment} ${c.n}`).join(', ')} of the ${v.min_feedback} labels each arm needs before the first update`;
      if (message !== v.message || rebased) await this.host.commitBandit(withView({ ...run, offsets }, { message }), undefined, true);
      return;
    }
    const seed = v.seed === null ? null : (v.seed + Math.imul(v.updates + 1, 0x9e3779b1)) >>> 0;
    const post = posteriors(counts, v.draws, seed);
    const shares = allocate(post.map((p) => p.p_best), v.floor_percent / 100, v.cap_percent / 100);
    const weights = Object.fromEntries(arms.map((arm, i) => [arm, round1(share * shares[i])]));
    const armViews: BanditArm[] = post.map((p) => ({ environment: p.environment, feedback: p.n, correct: p.correct, posterior_mean: p.posterior_mean, ci95: p.ci95, p_best: p.p_best, weight: weights[p.environment] }));
    const moved = Math.max(...arms.map((arm) => Math.abs(weights[arm] - now[arm])));
    const summary = armViews.map((a) => `${a.environment} ${a.posterior_mean} [${a.ci95.join(', ')}] from ${a.feedback} labels, P(best) ${a.p_best} → ${a.weight}`).join('; ');
    const at = new Date().toISOString();
    if (moved < (v.min_change_percent / 100) * share) {
      await this.host.commitBandit(withView({ ...run, offsets, lastSet: now }, { message: `holding: no arm would move by ${v.min_change_percent}% of the arms' weight (${summary})`, last_update: { at, arms: armViews } }), undefined, true);
      return;
    }
    const updates = v.updates + 1;
    const message = `update ${updates}: ${summary}`;
    const next = withView({ ...run, offsets, lastSet: weights }, { updates, message, last_update: { at, arms: armViews } });
    await this.host.commitBandit(next, { change: { weights }, options: { cause: 'bandit', detail: { message: `bandit ${message}` } } }, true);
    this.trail(next, 'update', `bandit ${message}`, armViews);
    this.deps.log.info({ bandit: v.id, updates, arms: armViews.map((a) => ({ environment: a.environment, feedback: a.feedback, posterior_mean: a.posterior_mean, p_best: a.p_best, weight: a.weight })), floor_percent: v.floor_percent, cap_percent: v.cap_percent }, `bandit moved the weights (${pct(moved / share)} of the arms' share at most)`);
  }
}
