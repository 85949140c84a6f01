// Sliding windows per model version of each environment (during a rolling update an environment
// serves two), made on first use; an environment's figures are its versions' added up at read time,
// so each request is recorded once.
import { Tally } from './tally.ts';
import { SlidingWindow, WINDOW_SECONDS, windowStats, type WindowStats } from './window.ts';

/** What reads the windows: the admin API, rollout analyses, the guard. */
export interface WindowsView {
  of(environment: string, seconds: number): WindowStats & { by_version: Record<string, WindowStats> };
}

export class StatsWindows implements WindowsView {
  private readonly versions = new Map<string, Map<string, SlidingWindow>>();

  record(environment: string, version: string, latencyMs: number, error: boolean, confidence: number | null, now = Date.now()): void {
    let byVersion = this.versions.get(environment);
    if (!byVersion) this.versions.set(environment, (byVersion = new Map()));
    let versionWindow = byVersion.get(version);
    if (!versionWindow) byVersion.set(version, (versionWindow = new SlidingWindow()));
    versionWindow.record(latencyMs, error, confidence, now);
  }

  /** [environment, version, stats over the last `seconds`] of every version that answered in them. */
  *versionStats(seconds: number, now = Date.now()): Generator<[string, string, WindowStats]> {
    for (const [environment, byVersion] of this.versions) {
      for (const [version, window] of byVersion) {
        const s = window.stats(seconds, now);
        if (s.requests > 0) yield [environment, version, s];
      }
    }
  }

  /** [environment, version, tally] of every version that answered in one second (epoch seconds). */
  *secondTallies(second: number): Generator<[string, string, Tally]> {
    for (const [environment, byVersion] of this.versions) {
      for (const [version, window] of byVersion) {
        const t = window.second(second);
        if (t && t.count > 0) yield [environment, version, t];
      }
    }
  }

  /** The environment's stats over the last `seconds`, with those of each version that answered. */
  of(environment: string, seconds: number, now = Date.now()): WindowStats & { by_version: Record<string, WindowStats> } {
    const total = new Tally();
    const byVersion: Record<string, WindowStats> = {};
    for (const [version, window] of this.versions.get(environment) ?? []) {
      const s = window.stats(seconds, now);
      if (s.requests > 0) byVersion[version] = s;
      window.addTo(total, seconds, now);
    }
    return { ...windowStats(total, Math.min(seconds, WINDOW_SECONDS)), by_version: byVersion };
  }
}
