// The A/B report's recommendation, free of HTTP: per environment promote, keep or roll back, with
// its reasons, from its error rate, its P95 against the baseline's and its online accuracy compared
// with the baseline's by a sequential test (stats/sequential.ts), valid however often it is read. Mean confidence is shown as the seed uses it, but
// only as a proxy: a model can be confidently wrong, so it never decides alone.
import type { SequentialComparison } from '../stats/sequential.ts';

export interface RecommendationInput {
  environment: string;
  isBaseline: boolean;
  requests: number;
  errorRate: number;
  p95: number | null;
  baselineP95: number | null;
  feedback: number;
  comparison: SequentialComparison | null;
}

export interface Thresholds {
  maxErrorRate: number;
  maxP95Ratio: number;
  minP95IncreaseMs: number;
  /** Feedback needed before accuracy can decide. */
  minFeedback: number;
  /** Requests needed before a P95 can decide (a small sample's tail is its slowest few requests). */
  minRequestsForLatency: number;
}

export const REPORT_THRESHOLDS: Thresholds = { maxErrorRate: 0.01, maxP95Ratio: 1.2, minP95IncreaseMs: 25, minFeedback: 30, minRequestsForLatency: 200 };

export function recommend(i: RecommendationInput, t: Thresholds = REPORT_THRESHOLDS): { action: 'promote' | 'keep' | 'roll_back'; reasons: string[] } {
  if (i.isBaseline) return { action: 'keep', reasons: ['the baseline the others are compared with'] };
  const against: string[] = [];
  if (i.errorRate > t.maxErrorRate) against.push(`error rate ${pct(i.errorRate)} over ${pct(t.maxErrorRate)}`);
  if (i.requests >= t.minRequestsForLatency && i.p95 !== null && i.baselineP95 !== null && i.p95 > Math.max(i.baselineP95 * t.maxP95Ratio, i.baselineP95 + t.minP95IncreaseMs)) {
    against.push(`P95 ${i.p95} ms over ${t.maxP95Ratio}× the baseline's ${i.baselineP95} ms`);
  }
  const c = i.comparison;
  if (c?.decision === 'worse') against.push(`accuracy ${pct(-c.difference)} below ${c.baseline}'s (always-valid p = ${c.p_value})`);
  if (against.length) return { action: 'roll_back', reasons: against };
  if (i.feedback < t.minFeedback) return { action: 'keep', reasons: [`${i.feedback} feedback labels, fewer than the ${t.minFeedback} needed to judge accuracy; error rate and latency are within bounds`] };
  if (c?.decision === 'better') return { action: 'promote', reasons: [`accuracy ${pct(c.difference)} above ${c.baseline}'s (always-valid p = ${c.p_value})`, 'error rate and latency within bounds'] };
  return { action: 'keep', reasons: [c ? `accuracy not yet told apart from ${c.baseline}'s (always-valid p = ${c.p_value}${needs(c)})` : 'no baseline feedback to compare with', 'error rate and latency within bounds'] };
}

/** ", about N more labels (~T) to decide", when the comparison can say. */
function needs(c: SequentialComparison): string {
  if (c.more_feedback_needed === null) return '; no decision in reach at this difference';
  const time = c.more_seconds_needed === null ? '' : ` (~${duration(c.more_seconds_needed)} at the current rate)`;
  return `; about ${c.more_feedback_needed} more labels${time} to tell a ${pct(c.assumed_difference ?? 0)} difference`;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
