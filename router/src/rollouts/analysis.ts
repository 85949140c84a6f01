// The analysis a rollout step (and the standing guard) must pass, free of time and HTTP: over a
// window with a minimum sample, the environment's error rate against a ceiling, its P95 against the
// baseline environment's, and, when feedback exists for both, its online accuracy: not found
// below the baseline's by the sequential test (stats/sequential.ts), which a rollout may read at
// every step without inflating its false alarms. Mean confidence is shown beside them, as the seed uses it,
// but never decides (a model can be confidently wrong). Each check is recorded as the decision trail
// wants it: metric, value, threshold, window, sample, passed. Too small a sample is inconclusive.
import { SEQUENTIAL_DEFAULTS, sequentialCompare } from '../stats/sequential.ts';
import type { WindowStats } from '../stats/window.ts';
import type { DecisionRecord } from '../history/schema.ts';

/** What a window of traffic is checked against (a rollout step's analysis, the standing guard). */
export interface AnalysisChecks {
  window_seconds: number;
  /** Requests the window must hold before anything is concluded. */
  min_requests: number;
  /** Fails above this error rate (the seed's 1%). */
  max_error_rate: number;
  /** Fails when P95 exceeds the baseline's by this factor (the seed's 20%: 1.2)... */
  max_p95_ratio: number;
  /**
   * ...and by at least this many milliseconds: small P95s differ by more than 20% from noise alone
   * (measured: 26 against 33 ms between two replicas of one model on a busy two-core machine).
   */
  min_p95_increase_ms: number;
  /** Feedback labels each side needs before accuracy is compared. */
  min_feedback: number;
}

/** A rollout step's analysis: the checks, and how long a step may wait for its sample. */
export interface AnalysisSpec extends AnalysisChecks {
  /**
   * How long a step waits for its sample (after its pause) before the rollout pauses for a person:
   * too little traffic neither passes nor fails a step (Flagger fails it; Argo Rollouts pauses on
   * an inconclusive result, as here).
   */
  max_wait_seconds: number;
  /** Fail a step when drift monitoring (router/src/drift/) flags the target. */
  drift: boolean;
}

/** What drift monitoring says of the target: its most-trafficked version's tests. */
export interface DriftVerdict {
  drifted: boolean;
  /** Predictions in its window. */
  requests: number;
  /** The failing test (or, undrifted, the closest to failing): its name, p-value and threshold. */
  test: { name: string; against: string; p_value: number; threshold: number };
}

/** Feedback so far (since the experiment started), for the target and the baseline. */
export interface FeedbackCounts {
  target: { correct: number; n: number };
  baseline: { correct: number; n: number };
  seconds: number;
}

export const ANALYSIS_DEFAULTS: AnalysisSpec = { window_seconds: 30, min_requests: 50, max_error_rate: 0.01, max_p95_ratio: 1.2, min_p95_increase_ms: 25, min_feedback: 30, max_wait_seconds: 600, drift: false };

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface AnalysisResult {
  verdict: Verdict;
  checks: DecisionRecord[];
  /** One line: what was found. */
  summary: string;
}

export function analyze(target: WindowStats, baseline: WindowStats | undefined, spec: AnalysisChecks, feedback?: FeedbackCounts, drift?: DriftVerdict | null): AnalysisResult {
  const window = spec.window_seconds;
  if (target.requests < spec.min_requests) {
    return {
      verdict: 'inconclusive',
      checks: [{ metric: 'requests', value: target.requests, threshold: spec.min_requests, window_seconds: window, sample: target.requests, passed: false }],
      summary: `${target.requests} requests in ${window} s, fewer than the ${spec.min_requests} needed`,
    };
  }
  const checks: DecisionRecord[] = [
    { metric: 'error_rate', value: round(target.error_rate), threshold: spec.max_error_rate, window_seconds: window, sample: target.requests, passed: target.error_rate <= spec.max_error_rate },
  ];
  if (baseline && baseline.requests >= spec.min_requests && baseline.p95_ms !== null && target.p95_ms !== null) {
    const ceiling = Math.max(baseline.p95_ms * spec.max_p95_ratio, baseline.p95_ms + spec.min_p95_increase_ms);
    checks.push({ metric: 'p95_latency_ms', value: target.p95_ms, threshold: round(ceiling), window_seconds: window, sample: target.requests, passed: target.p95_ms <= ceiling });
  }
  if (feedback && feedback.target.n >= spec.min_feedback && feedback.baseline.n >= spec.min_feedback) {
    const c = sequentialCompare(feedback.target, feedback.baseline, 'baseline', 0, { ...SEQUENTIAL_DEFAULTS, minEach: spec.min_feedback });
    const [mine, theirs] = [feedback.target.correct / feedback.target.n, feedback.baseline.correct / feedback.baseline.n];
    checks.push({ metric: 'online_accuracy', value: round(mine), threshold: round(theirs), window_seconds: Math.round(feedback.seconds), sample: feedback.target.n, passed: c?.decision !== 'worse' });
  }
  if (drift) {
    const t = drift.test;
    checks.push({ metric: `drift (${t.name} against ${t.against}, p-value)`, value: t.p_value, threshold: t.threshold, window_seconds: window, sample: drift.requests, passed: !drift.drifted });
  }
  const decisive = [...checks];
  if (target.mean_confidence !== null) {
    checks.push({ metric: 'mean_confidence (a proxy, not decisive)', value: round(target.mean_confidence), threshold: round(baseline?.mean_confidence ?? 0), window_seconds: window, sample: target.requests, passed: true });
  }
  const failed = decisive.filter((c) => !c.passed);
  return {
    verdict: failed.length ? 'fail' : 'pass',
    checks,
    summary: failed.length
      ? failed.map((c) => `${c.metric} ${c.value} over ${c.threshold} (${c.sample} requests in ${window} s)`).join('; ')
      : decisive.map((c) => `${c.metric} ${c.value} within ${c.threshold}`).join('; ') + ` (${target.requests} requests in ${window} s)`,
  };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
