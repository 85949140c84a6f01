// Autoscaling on measured load: every interval, each autoscaled environment's CPU utilization is
// read from its replicas' processes (/proc/<pid>/stat, user + system time, so worker threads
// count) and handed to the HPA rule (autoscale-policy.ts); the controller then holds the
// environment at the count decided, starting (ready, registered) or stopping (deregistered,
// drained) replicas as it does for any change. Every decision that changes the count is logged
// and kept in the environment's status with what it was made on.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { decide, type Recommendation, type ScaleSettings } from './autoscale-policy.ts';
import type { Controller } from './controller.ts';
import { DEFAULT_TARGET_CPU_PERCENT } from './deployment.ts';

/** Clock ticks per second of /proc's CPU times. */
function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
}

/** User + system CPU seconds a process (all its threads) has used, or undefined if it is gone. */
function cpuSeconds(pid: number, ticks: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at the state, field 3; utime is 14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return undefined;
  }
}

export interface AutoscalerSettings extends ScaleSettings {
  intervalMs: number;
}

export class Autoscaler {
  private timer: NodeJS.Timeout | null = null;
  private readonly ticks = clockTicks();
  /** Per process: CPU seconds and when they were read. */
  private readonly samples = new Map<number, { cpu: number; at: number }>();
  private readonly recommendations = new Map<string, Recommendation[]>();

  constructor(
    private readonly controller: Controller,
    private readonly settings: () => AutoscalerSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    const loop = () => {
      this.tick();
      this.timer = setTimeout(loop, this.settings().intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(loop, this.settings().intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** CPU utilization (percent of one core) of a process since its last sample. */
  private utilization(pid: number, now: number): number | undefined {
    const cpu = cpuSeconds(pid, this.ticks);
    const last = this.samples.get(pid);
    if (cpu === undefined) return undefined;
    this.samples.set(pid, { cpu, at: now });
    return last && now > last.at ? ((cpu - last.cpu) / ((now - last.at) / 1000)) * 100 : undefined;
  }

  tick(now = Date.now()): void {
    const settings = this.settings();
    const live = new Set<number>();
    for (const [environment, spec] of Object.entries(this.controller.deployment.environments)) {
      const replicas = this.controller.replicasOf(environment);
      for (const r of replicas) if (r.pid) live.add(r.pid);
      if (!spec.autoscale) {
        this.recommendations.delete(environment);
        continue;
      }
      const current = this.controller.desiredReplicas(environment);
      const ready = replicas.filter((r) => r.phase === 'ready' && r.pid !== undefined);
      const readings = ready.map((r) => this.utilization(r.pid as number, now));
      // Not measured yet (a replica's first sample) or mid-change: decide at the next tick.
      if (readings.some((u) => u === undefined) || replicas.some((r) => r.phase !== 'ready')) continue;
      // Replicas asked for but not ready count as idle, as the HPA counts missing pods on a scale up.
      const utilization = current > 0 ? (readings as number[]).reduce((a, b) => a + b, 0) / current : 0;
      const { decision, history } = decide({
        now,
        current,
        utilization,
        bounds: { min: spec.autoscale.min, max: spec.autoscale.max, targetCpuPercent: spec.autoscale.target_cpu_percent ?? DEFAULT_TARGET_CPU_PERCENT },
        settings,
        history: this.recommendations.get(environment) ?? [],
      });
      this.recommendations.set(environment, history);
      this.controller.recordDecision(environment, decision);
      if (decision.action === 'hold') continue;
      this.log.info({ environment, ...decision, window_seconds: settings.intervalMs / 1000 }, `autoscaling ${environment}: ${decision.current_replicas} → ${decision.desired_replicas} replicas`);
      this.controller.scale(environment, decision.desired_replicas);
    }
    for (const pid of this.samples.keys()) if (!live.has(pid)) this.samples.delete(pid);
  }
}
