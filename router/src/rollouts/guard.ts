// The standing guard, outside rollouts: every interval, each weighted environment's error rate and
// (but for the heaviest) its P95 against the heaviest's are checked over a window with a minimum sample
// (analysis.ts). One that breaks a threshold at `consecutive` checks in a row (as an alert's `for`)
// has its weight set to 0, so a bad canary leaves rotation without a person (or, in alert mode, is
// only reported). Never the last weighted environment: with nowhere else to go, the guard only
// alerts. Environments in a rollout are left to the rollout's own analysis. Every trip is an entry
// of the decision trail with metric, value, threshold, window and sample, and a log line.
import type { Logger } from 'pino';
import type { HistoryEntry } from '../history/schema.ts';
import type { WindowsView } from '../stats/windows.ts';
import type { Leadership } from '../state/leader.ts';
import { weightsOf, type WeightsStore } from '../weights/store.ts';
import { analyze, type AnalysisChecks } from './analysis.ts';
import { defaultBaseline } from './steps.ts';

export type GuardMode = 'off' | 'alert' | 'act';

export interface GuardOptions extends AnalysisChecks {
  mode: GuardMode;
  intervalMs: number;
  /** Checks in a row that must fail before the guard acts. */
  consecutive: number;
}

export interface GuardDeps {
  weights: WeightsStore;
  /** Only the elected controller checks (with one router, always). */
  leadership: Leadership;
  stats: WindowsView;
  record: (entry: Omit<HistoryEntry, 'at'>) => void;
  /** Environments the guard leaves alone (those in a rollout, which its analysis judges). */
  exempt: (environment: string) => boolean;
  log: Logger;
}

export class Guard {
  private timer: NodeJS.Timeout | null = null;
  /** Environments reported in alert mode, so one breach is one entry, not one per interval. */
  private readonly alerted = new Set<string>();
  /** Failed checks in a row, per environment. */
  private readonly breaches = new Map<string, number>();

  constructor(
    private readonly options: GuardOptions,
    private readonly deps: GuardDeps,
  ) {}

  start(): void {
    if (this.options.mode === 'off') return;
    this.timer = setInterval(() => void this.check().catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'guard: the check could not act; it tries again')), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async check(): Promise<void> {
    if (!this.deps.leadership.leading) {
      this.breaches.clear();
      return;
    }
    const weights = weightsOf(this.deps.weights.snapshot);
    const window = this.options.window_seconds;
    const heaviest = Object.entries(weights).sort((a, b) => b[1] - a[1])[0]?.[0];
    for (const [environment, weight] of Object.entries(weights)) {
      if (weight <= 0 || this.deps.exempt(environment)) {
        this.breaches.delete(environment);
        continue;
      }
      // Latency is judged against the heaviest environment, so that one is judged on errors alone.
      const baseline = environment === heaviest ? undefined : defaultBaseline(weights, environment);
      const result = analyze(this.deps.stats.of(environment, window), baseline ? this.deps.stats.of(baseline, window) : undefined, this.options);
      if (result.verdict !== 'fail') {
        if (result.verdict === 'pass') {
          this.alerted.delete(environment);
          this.breaches.delete(environment);
        }
        continue;
      }
      const breaches = (this.breaches.get(environment) ?? 0) + 1;
      this.breaches.set(environment, breaches);
      if (breaches < this.options.consecutive) continue;
      const others = Object.entries(weights).filter(([name, w]) => name !== environment && w > 0);
      const act = this.options.mode === 'act' && others.length > 0;
      if (!act && this.alerted.has(environment)) continue;
      const action = act ? 'weight_zeroed' : 'alert';
      const message = act
        ? `guard: ${environment} taken out of rotation (weight ${weight} → 0): ${result.summary}`
        : `guard: ${environment} breaks its thresholds: ${result.summary}${this.options.mode === 'act' ? ' (the only weighted environment: alert only)' : ''}`;
      // Fenced: a controller deposed meanwhile changes nothing (and records nothing).
      if (act) await this.deps.weights.update({ weights: { [environment]: 0 } }, { cause: 'guard', detail: { message }, fenced: true });
      this.deps.record({ kind: 'guard', action, environment, message, checks: result.checks });
      this.deps.log.warn({ environment, action, checks: result.checks }, message);
      if (!act) {
        this.alerted.add(environment);
        continue;
      }
      this.breaches.delete(environment);
      return; // one change per check: the next one sees the new split
    }
  }
}
