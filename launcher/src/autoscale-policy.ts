// The autoscaling rule of Kubernetes' HorizontalPodAutoscaler, free of processes and time so that
// it is tested directly: desired = ceil(current × utilization / target), no change while the ratio
// is within the tolerance, bounded by min and max, at most doubling (or +4) in one step; a scale up
// applies at once, a scale down only to the highest count recommended over the stabilization
// window, so that a dip in load does not flap the replica count. Each decision carries what it was
// made on: metric, value, target, current and desired counts, and why.
import type { ScalingDecision } from '../../shared/api/deployments.ts';

export interface ScaleBounds {
  min: number;
  max: number;
  /** Average CPU utilization per ready replica to hold, in percent of one core. */
  targetCpuPercent: number;
}

export interface ScaleSettings {
  /** |utilization / target − 1| within this: no change (HPA's default 0.1). */
  tolerance: number;
  /** How long a lower recommendation must hold before the count goes down. */
  scaleDownStabilizationMs: number;
}

export interface Recommendation {
  at: number;
  replicas: number;
}

export const CPU_METRIC = 'cpu_utilization_percent';

export function recommend(current: number, utilization: number, bounds: ScaleBounds, settings: ScaleSettings): { replicas: number; reason: string } {
  const clamp = (n: number) => Math.min(bounds.max, Math.max(bounds.min, n));
  if (current === 0) return { replicas: clamp(bounds.min), reason: 'no ready replica to measure: hold at the minimum' };
  const ratio = utilization / bounds.targetCpuPercent;
  if (Math.abs(ratio - 1) <= settings.tolerance) return { replicas: clamp(current), reason: `utilization within ${settings.tolerance * 100}% of the target` };
  const raw = Math.ceil(current * ratio);
  // At most double (or add 4) in one step, as the HPA's default scale-up policy.
  const limited = Math.min(raw, Math.max(current * 2, current + 4));
  const replicas = clamp(limited);
  const why = `ceil(${current} × ${utilization.toFixed(1)} / ${bounds.targetCpuPercent}) = ${raw}`;
  if (replicas !== raw) return { replicas, reason: `${why}, bounded to ${replicas} (${limited !== raw ? 'at most double per step; ' : ''}min ${bounds.min}, max ${bounds.max})` };
  return { replicas, reason: why };
}

/**
 * The decision at `now`, given the current count, the measured utilization and the recent
 * recommendations (this one is added to them; those older than the window are dropped).
 */
export function decide(
  input: { now: number; current: number; utilization: number; bounds: ScaleBounds; settings: ScaleSettings; history: Recommendation[] },
): { decision: ScalingDecision; history: Recommendation[] } {
  const { now, current, utilization, bounds, settings } = input;
  const { replicas: recommended, reason } = recommend(current, utilization, bounds, settings);
  const history = [...input.history.filter((r) => now - r.at < settings.scaleDownStabilizationMs), { at: now, replicas: recommended }];
  // Down only as far as the highest recommendation over the window: load must stay low that long.
  const stabilized = Math.max(...history.map((r) => r.replicas));
  const desired = recommended >= current ? recommended : Math.min(current, stabilized);
  const action = desired > current ? 'scale_up' : desired < current ? 'scale_down' : 'hold';
  const held = recommended < current && desired === current;
  return {
    decision: {
      at: new Date(now).toISOString(),
      metric: CPU_METRIC,
      value: Math.round(utilization * 10) / 10,
      target: bounds.targetCpuPercent,
      current_replicas: current,
      desired_replicas: desired,
      action,
      reason: held ? `${reason}; held at ${current} until the load stays low for ${settings.scaleDownStabilizationMs / 1000} s` : reason,
    },
    history,
  };
}
