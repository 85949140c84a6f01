// The sliding windows across routers, for what judges traffic (rollout analyses, the guard) and
// GET /admin/stats: every second each router adds the tallies of its last complete second, per
// environment and version, to that second's hash in the store (kept two minutes), and reads back
// the seconds every router has flushed by then. A window is the sum of those seconds, so the
// elected controller judges every router's traffic, two seconds behind. While the store is away a
// router reads its own windows.
import { Tally } from '../stats/tally.ts';
import { WINDOW_SECONDS, windowStats, type WindowStats } from '../stats/window.ts';
import type { StatsWindows, WindowsView } from '../stats/windows.ts';
import type { StateStore } from './store.ts';

/** Seconds a second waits before it is read: every router's flush of it has had a tick by then. */
const LAG = 2;
/** Seconds read again at each tick, so a flush held up a few seconds is still counted. */
const REREAD = 5;
const SEP = '\u0000';

export class SharedWindows implements WindowsView {
  /** Epoch second → `environment\0version` → every router's tally of it. */
  private readonly seconds = new Map<number, Map<string, Tally>>();
  private timer: NodeJS.Timeout | null = null;
  /** The last second this router flushed (a tick held up flushes every second it missed). */
  private flushed = Math.floor(Date.now() / 1000) - 1;
  private ticking = false;

  constructor(
    private readonly state: StateStore,
    private readonly local: StatsWindows,
  ) {}

  private key(second: number): string {
    return `${this.state.prefix}stats:${second}`;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick().catch((err: unknown) => this.state.failed('stats_windows', err, { background: true })), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (!this.state.up || this.ticking) return;
    this.ticking = true;
    try {
      await this.exchange();
    } finally {
      this.ticking = false;
    }
  }

  private async exchange(): Promise<void> {
    const current = Math.floor(Date.now() / 1000);
    const redis = this.state.redis;
    const flush = redis.multi();
    const from = Math.max(this.flushed + 1, current - WINDOW_SECONDS);
    for (let second = from; second < current; second++) {
      const key = this.key(second);
      for (const [environment, version, t] of this.local.secondTallies(second)) {
        const f = `${environment}${SEP}${version}${SEP}`;
        flush.hincrby(key, `${f}count`, t.count);
        if (t.errors) flush.hincrby(key, `${f}errors`, t.errors);
        if (t.confidenceCount) {
          flush.hincrbyfloat(key, `${f}cs`, t.confidenceSum);
          flush.hincrby(key, `${f}cc`, t.confidenceCount);
        }
        t.latency.forEach((n, i) => n && flush.hincrby(key, `${f}l${i}`, n));
      }
      flush.expire(key, 120);
    }
    // Marked before it is sent: a failed flush loses those seconds (counted), never adds them twice.
    this.flushed = current - 1;
    await flush.exec();
    const read = Array.from({ length: REREAD }, (_, i) => current - LAG - i);
    const hashes = await Promise.all(read.map((s) => redis.hgetall(this.key(s))));
    this.state.answered();
    read.forEach((second, i) => this.seconds.set(second, parse(hashes[i])));
    for (const second of this.seconds.keys()) if (second <= current - LAG - WINDOW_SECONDS) this.seconds.delete(second);
  }

  of(environment: string, seconds: number): WindowStats & { by_version: Record<string, WindowStats> } {
    if (!this.state.up) return this.local.of(environment, seconds);
    const span = Math.min(seconds, WINDOW_SECONDS);
    const newest = Math.floor(Date.now() / 1000) - LAG;
    const versions = new Map<string, Tally>();
    for (let s = newest - span + 1; s <= newest; s++) {
      for (const [key, t] of this.seconds.get(s) ?? []) {
        const [env, version] = key.split(SEP);
        if (env !== environment) continue;
        let into = versions.get(version);
        if (!into) versions.set(version, (into = new Tally()));
        into.merge(t);
      }
    }
    const total = new Tally();
    const byVersion: Record<string, WindowStats> = {};
    for (const [version, t] of versions) {
      total.merge(t);
      byVersion[version] = windowStats(t, span);
    }
    return { ...windowStats(total, span), by_version: byVersion };
  }
}

/** A second's hash → its tallies by `environment\0version`. */
function parse(hash: Record<string, string>): Map<string, Tally> {
  const tallies = new Map<string, Tally>();
  for (const [field, value] of Object.entries(hash)) {
    const cut = field.lastIndexOf(SEP);
    const key = field.slice(0, cut);
    const name = field.slice(cut + 1);
    let t = tallies.get(key);
    if (!t) tallies.set(key, (t = new Tally()));
    const n = Number(value);
    if (name === 'count') t.count = n;
    else if (name === 'errors') t.errors = n;
    else if (name === 'cs') t.confidenceSum = n;
    else if (name === 'cc') t.confidenceCount = n;
    else if (name.startsWith('l')) t.latency[Number(name.slice(1))] = n;
  }
  return tallies;
}
