// The running experiment: since it started (or was reset), per environment and model version, the
// answered requests (a tally: errors, latency, confidence), the label mix, and the feedback
// received (how many, how many the prediction got right), and what each shadow's mirrors came to.
// The report is built from it. With a shared state store (several routers) the figures, the
// feedback and the shadows' agreement are every router's.
import { PairMap } from '../stats/pair-map.ts';
import { Tally } from '../stats/tally.ts';
import { accuracy } from '../stats/proportions.ts';
import { sequentialCompare } from '../stats/sequential.ts';
import { recommend } from './report.ts';
import type { FeedbackLog } from './feedback-log.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateStoreUnavailableError } from '../../../shared/errors.ts';
import type { SharedFeedback } from '../state/shared-feedback.ts';
import type { SharedReport } from '../state/shared-report.ts';
import type { RecentPredictions, RememberedPrediction } from './recent-predictions.ts';
import type { ExperimentReport } from './schema.ts';
import type { ShadowComparison } from './shadow.ts';
import { emptyShadow, shadowKey, type ShadowTally } from './shadow-tally.ts';

interface VersionTally {
  environment: string;
  version: string;
  tally: Tally;
  labels: Map<string, number>;
  feedback: number;
  correct: number;
}

export type FeedbackResult = 'recorded' | 'unknown' | 'duplicate';

/** How long a prediction another router answered may take to reach the store after its answer. */
const LATE_WRITE_MS = 100;

export class Experiment {
  private readonly versions = new PairMap<VersionTally>();
  private readonly shadows = new Map<string, ShadowTally>();
  private startedAt = new Date().toISOString();

  constructor(
    private readonly recent: RecentPredictions,
    private readonly log?: FeedbackLog,
    /** With several routers: predictions, feedback and the report's figures shared through the store. */
    private readonly shared?: SharedFeedback,
    private readonly sharedReport?: SharedReport,
  ) {
    // Feedback acknowledged before a restart still counts (the requests it was given for do not);
    // with a shared store, the store's counts are the record.
    for (const line of shared ? [] : (log?.since ?? [])) {
      if (line.kind === 'reset') {
        this.startedAt = line.at;
        continue;
      }
      const v = this.of(line.environment, line.version);
      v.feedback++;
      if (line.predicted === line.truth) v.correct++;
    }
  }

  private of(environment: string, version: string): VersionTally {
    let v = this.versions.get(environment, version);
    if (!v) this.versions.set(environment, version, (v = { environment, version, tally: new Tally(), labels: new Map(), feedback: 0, correct: 0 }));
    return v;
  }

  record(requestId: string, environment: string, version: string, latencyMs: number, error: boolean, answer: { label: string | null; confidence: number } | null): void {
    const v = this.of(environment, version);
    v.tally.add(latencyMs, error, answer?.confidence ?? null);
    this.sharedReport?.add(environment, version, latencyMs, error, answer?.confidence ?? null, answer?.label ?? null);
    if (answer?.label == null) return;
    v.labels.set(answer.label, (v.labels.get(answer.label) ?? 0) + 1);
    this.recent.remember(requestId, { environment, version, label: answer.label, at: Date.now() });
    this.shared?.remember(requestId, { environment, version, label: answer.label });
  }

  /** Feedback counted for a version: this router's, or every router's through the store. */
  private countsOf(v: { environment: string; version: string; feedback: number; correct: number }): { n: number; correct: number } {
    if (!this.shared) return { n: v.feedback, correct: v.correct };
    return this.shared.counts.get(`${v.environment}\u0000${v.version}`) ?? { n: 0, correct: 0 };
  }

  /**
   * Every version's figures: this router's own, or with a shared store every router's (their
   * requests and latencies summed in the store, their feedback counted there), including versions
   * only other routers answered.
   */
  private allVersions(): VersionTally[] {
    if (!this.shared && !this.sharedReport) return [...this.versions.values()];
    const rows = new Map<string, VersionTally>();
    const row = (environment: string, version: string) => {
      const k = `${environment}\u0000${version}`;
      let r = rows.get(k);
      if (!r) rows.set(k, (r = { environment, version, tally: new Tally(), labels: new Map(), feedback: 0, correct: 0 }));
      return r;
    };
    const figures = this.sharedReport?.figures() ?? [...this.versions.values()];
    for (const f of figures) Object.assign(row(f.environment, f.version), { tally: f.tally, labels: f.labels });
    for (const key of this.shared?.counts.keys() ?? []) row(...(key.split('\u0000') as [string, string]));
    return [...rows.values()].map((v) => {
      const c = this.countsOf(v);
      return { ...v, feedback: c.n, correct: c.correct };
    });
  }

  /** When the experiment started: the store's (every router's) once known. */
  private get started(): string {
    return this.sharedReport?.started ?? this.startedAt;
  }

  /**
   * Applies a shadow's change to this router's tally, and with a shared store to what it adds to
   * every router's: one tally per environment and version, so a new version in a shadow
   * environment starts from nothing.
   */
  private shadow(environment: string, version: string, change: (s: ShadowTally) => void): void {
    const key = shadowKey(environment, version);
    let s = this.shadows.get(key);
    if (!s) this.shadows.set(key, (s = emptyShadow(environment, version)));
    change(s);
    this.sharedReport?.shadow(environment, version, change);
  }

  shadowCompared(c: ShadowComparison): void {
    this.shadow(c.environment, c.version, (s) => {
      s.compared++;
      s.latencyDeltaSum += c.latencyDeltaMs;
      if (c.agree !== null) {
        s.labelled++;
        if (c.agree) s.agreed++;
      }
      if (c.confidenceDelta !== null) {
        s.confidenceDeltaSum += c.confidenceDelta;
        s.confidenceDeltas++;
      }
    });
  }

  shadowFailed(environment: string, version: string): void {
    this.shadow(environment, version, (s) => s.failed++);
  }

  shadowDropped(environment: string, version: string): void {
    this.shadow(environment, version, (s) => s.dropped++);
  }

  /** Counts the feedback, and resolves once it is on disk (feedback.file). */
  async feedback(requestId: string, label: string): Promise<FeedbackResult> {
    const now = Date.now();
    const mine = this.recent.find(requestId, now);
    if (this.shared) return this.sharedFeedback(requestId, label, mine, now);
    const p = mine;
    if (!p) return 'unknown';
    if (p.truth !== undefined) return 'duplicate';
    this.recent.setTruth(requestId, label, now);
    const v = this.of(p.environment, p.version);
    v.feedback++;
    if (p.label === label) v.correct++;
    await this.log?.append({ kind: 'feedback', at: new Date().toISOString(), request_id: requestId, environment: p.environment, version: p.version, predicted: p.label, truth: label });
    return 'recorded';
  }

  /** Feedback with several routers: the prediction may be another router's, the claim is the store's. */
  private async sharedFeedback(requestId: string, label: string, mine: Readonly<RememberedPrediction> | undefined, now: number): Promise<FeedbackResult> {
    const shared = this.shared!;
    if (!shared.available) throw new StateStoreUnavailableError('feedback');
    let p;
    try {
      // The router that answered writes the prediction just after its answer leaves: feedback
      // sent at once to another router may arrive first, so a miss is asked again a moment later.
      p = mine ?? (await shared.find(requestId)) ?? (await sleep(LATE_WRITE_MS).then(() => shared.find(requestId)));
      if (!p) return 'unknown';
      if (!(await shared.claim(requestId, p, label))) return 'duplicate';
    } catch (err) {
      shared.failed('feedback', err);
      throw new StateStoreUnavailableError('feedback');
    }
    if (mine) this.recent.setTruth(requestId, label, now);
    await this.log?.append({ kind: 'feedback', at: new Date().toISOString(), request_id: requestId, environment: p.environment, version: p.version, predicted: p.label, truth: label });
    return 'recorded';
  }

  /** Feedback so far for an environment, all its versions together, and the experiment's age. */
  feedbackOf(environment: string): { correct: number; n: number } {
    let correct = 0;
    let n = 0;
    for (const v of this.allVersions()) {
      if (v.environment !== environment) continue;
      correct += v.correct;
      n += v.feedback;
    }
    return { correct, n };
  }

  get ageSeconds(): number {
    return (Date.now() - Date.parse(this.started)) / 1000;
  }

  async reset(): Promise<void> {
    this.versions.clear();
    this.shadows.clear();
    this.startedAt = new Date().toISOString();
    const report = this.sharedReport;
    if (report) {
      if (!report.available) throw new StateStoreUnavailableError('the reset');
      await Promise.all([this.shared?.reset(), report.reset(this.startedAt)]).catch((err: unknown) => {
        report.failed('reset', err);
        throw new StateStoreUnavailableError('the reset');
      });
    }
    await this.log?.append({ kind: 'reset', at: this.startedAt });
  }

  /** The baseline: the one named, else the environment that answered the most. */
  report(baselineName?: string): ExperimentReport {
    const rows = this.allVersions();
    const byEnvironment = new Map<string, VersionTally>();
    for (const v of rows) {
      const e = byEnvironment.get(v.environment) ?? { environment: v.environment, version: '', tally: new Tally(), labels: new Map(), feedback: 0, correct: 0 };
      e.tally.merge(v.tally);
      e.feedback += v.feedback;
      e.correct += v.correct;
      byEnvironment.set(v.environment, e);
    }
    const baseline = baselineName ?? [...byEnvironment.values()].sort((a, b) => b.tally.count - a.tally.count)[0]?.environment;
    const base = baseline ? byEnvironment.get(baseline) : undefined;
    const baseP95 = base?.tally.quantile(0.95) ?? null;
    const age = Math.max(1, this.ageSeconds);
    return {
      started_at: this.started,
      baseline: baseline ?? null,
      versions: rows.map((v) => {
        const summary = v.tally.summary();
        const comparison = base && v.environment !== baseline ? sequentialCompare({ correct: v.correct, n: v.feedback }, { correct: base.correct, n: base.feedback }, base.environment, (v.feedback + base.feedback) / age) : null;
        const labelTotal = [...v.labels.values()].reduce((a, b) => a + b, 0);
        return {
          environment: v.environment,
          model_version: v.version,
          ...summary,
          label_distribution: Object.fromEntries([...v.labels].map(([label, n]) => [label, Math.round((n / labelTotal) * 10_000) / 10_000])),
          online_accuracy: accuracy(v.correct, v.feedback),
          vs_baseline: comparison,
          recommendation: recommend({ environment: v.environment, isBaseline: v.environment === baseline, requests: summary.requests, errorRate: summary.error_rate, p95: summary.p95_ms, baselineP95: baseP95, feedback: v.feedback, comparison }),
        };
      }),
      shadows: (this.sharedReport?.shadows() ?? [...this.shadows.values()]).map((s) => ({
        environment: s.environment,
        model_version: s.version,
        compared: s.compared,
        failed: s.failed,
        dropped: s.dropped,
        label_agreement: s.labelled ? Math.round((s.agreed / s.labelled) * 10_000) / 10_000 : null,
        mean_confidence_delta: s.confidenceDeltas ? Math.round((s.confidenceDeltaSum / s.confidenceDeltas) * 10_000) / 10_000 : null,
        mean_latency_delta_ms: s.compared ? Math.round((s.latencyDeltaSum / s.compared) * 100) / 100 : null,
      })),
      note: 'mean_confidence is shown as the seed uses it, but only as a proxy: a model can be confidently wrong. Accuracy comes from feedback (POST /feedback); with fewer than 30 labels per version it does not decide. vs_baseline is a sequential test (mixture SPRT, α = 0.05 over the whole experiment): valid however often the report is read.',
    };
  }
}
