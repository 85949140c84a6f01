// The A/B report's figures across routers: each router adds what it answered to a local delta per
// environment and version (requests, errors, the latency histogram's fixed buckets, confidences,
// the label mix), and what each shadow's mirrors came to (compared, agreed, deltas), and flushes it to the store every second, where the deltas of every router add
// up; each router reads the sums back after its flush. Counts and fixed buckets merge exactly, so
// every router's report shows the same figures (a second behind at most). While the store is away
// the deltas wait here and are flushed when it is back.
import { emptyShadow, mergeShadow, parseShadowKey, SHADOW_SUMS, shadowKey, type ShadowTally } from '../experiments/shadow-tally.ts';
import { BOUNDS_MS, Tally } from '../stats/tally.ts';
import type { StateStore } from './store.ts';

export interface VersionFigures {
  environment: string;
  version: string;
  tally: Tally;
  labels: Map<string, number>;
}

const SEP = '\u0000';

const emptyFigures = (environment: string, version: string): VersionFigures => ({ environment, version, tally: new Tally(), labels: new Map() });

export class SharedReport {
  private pending = new Map<string, VersionFigures>();
  private read = new Map<string, VersionFigures>();
  private pendingShadows = new Map<string, ShadowTally>();
  private readShadows = new Map<string, ShadowTally>();
  private startedAt: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly state: StateStore) {}

  /** Can the store be written now? */
  get available(): boolean {
    return this.state.up;
  }

  failed(operation: string, err: unknown): void {
    this.state.failed(operation, err);
  }

  private key(kind: string): string {
    return `${this.state.prefix}${kind}`;
  }

  add(environment: string, version: string, latencyMs: number, error: boolean, confidence: number | null, label: string | null): void {
    const k = `${environment}${SEP}${version}`;
    let f = this.pending.get(k);
    if (!f) this.pending.set(k, (f = emptyFigures(environment, version)));
    f.tally.add(latencyMs, error, confidence);
    if (label !== null) f.labels.set(label, (f.labels.get(label) ?? 0) + 1);
  }

  /** Adds a shadow's change to what this router flushes next. */
  shadow(environment: string, version: string, change: (s: ShadowTally) => void): void {
    const key = shadowKey(environment, version);
    let s = this.pendingShadows.get(key);
    if (!s) this.pendingShadows.set(key, (s = emptyShadow(environment, version)));
    change(s);
  }

  /** Every router's shadow tallies as last read, with this router's not yet flushed. */
  shadows(): ShadowTally[] {
    const all = new Map<string, ShadowTally>();
    for (const source of [this.readShadows, this.pendingShadows]) {
      for (const [key, s] of source) {
        let into = all.get(key);
        if (!into) all.set(key, (into = emptyShadow(s.environment, s.version)));
        mergeShadow(into, s);
      }
    }
    return [...all.values()];
  }

  /** Every router's figures as last read, with this router's not yet flushed. */
  figures(): VersionFigures[] {
    const all = new Map<string, VersionFigures>();
    for (const source of [this.read, this.pending]) {
      for (const [k, f] of source) {
        let into = all.get(k);
        if (!into) all.set(k, (into = emptyFigures(f.environment, f.version)));
        into.tally.merge(f.tally);
        for (const [label, n] of f.labels) into.labels.set(label, (into.labels.get(label) ?? 0) + n);
      }
    }
    return [...all.values()];
  }

  /** When the experiment (every router's) started, once read from the store. */
  get started(): string | null {
    return this.startedAt;
  }

  /** Adds this router's deltas to the store's sums, then reads the sums back. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (!this.state.up) return;
    const sending = this.pending;
    const sendingShadows = this.pendingShadows;
    this.pending = new Map();
    this.pendingShadows = new Map();
    try {
      if (sending.size > 0 || sendingShadows.size > 0) {
        const multi = this.state.redis.multi();
        for (const [key, s] of sendingShadows) {
          const hash = this.key(`shadow:${key}`);
          multi.sadd(this.key('shadow-index'), key);
          for (const field of SHADOW_SUMS) if (s[field]) multi.hincrbyfloat(hash, field, s[field]);
        }
        for (const [k, f] of sending) {
          const hash = this.key(`report:${k}`);
          const t = f.tally;
          multi.sadd(this.key('report-index'), k);
          multi.hincrby(hash, 'count', t.count);
          if (t.errors) multi.hincrby(hash, 'errors', t.errors);
          if (t.confidenceCount) {
            multi.hincrbyfloat(hash, 'confidence_sum', t.confidenceSum);
            multi.hincrby(hash, 'confidence_count', t.confidenceCount);
          }
          t.latency.forEach((n, i) => n && multi.hincrby(hash, `l${i}`, n));
          for (const [label, n] of f.labels) multi.hincrby(hash, `label:${label}`, n);
        }
        await multi.exec();
      }
    } catch (err) {
      // Not counted twice, not lost: the deltas go back to wait for the next flush.
      for (const [key, s] of sendingShadows) {
        const into = this.pendingShadows.get(key);
        if (!into) this.pendingShadows.set(key, s);
        else mergeShadow(into, s);
      }
      for (const [k, f] of sending) {
        const into = this.pending.get(k);
        if (!into) this.pending.set(k, f);
        else {
          into.tally.merge(f.tally);
          for (const [label, n] of f.labels) into.labels.set(label, (into.labels.get(label) ?? 0) + n);
        }
      }
      this.state.failed('report_flush', err, { background: true });
      return;
    }
    await this.readBack().catch((err: unknown) => this.state.failed('report_read', err, { background: true }));
  }

  private async readBack(): Promise<void> {
    const redis = this.state.redis;
    const [keys, shadowKeys] = await Promise.all([redis.smembers(this.key('report-index')), redis.smembers(this.key('shadow-index'))]);
    // The sums and the start read in one transaction: a reset by another router lands either
    // wholly before or wholly after, never between (old start with new sums, or the reverse).
    const multi = redis.multi();
    for (const k of keys) multi.hgetall(this.key(`report:${k}`));
    for (const k of shadowKeys) multi.hgetall(this.key(`shadow:${k}`));
    multi.get(this.key('started-at'));
    const replies = ((await multi.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    const hashes = replies.slice(0, keys.length) as Record<string, string>[];
    const shadowHashes = replies.slice(keys.length, keys.length + shadowKeys.length) as Record<string, string>[];
    const started = replies[replies.length - 1] as string | null;
    const shadows = new Map<string, ShadowTally>();
    shadowKeys.forEach((key, i) => {
      const h = shadowHashes[i];
      const { environment, version } = parseShadowKey(key);
      const s = emptyShadow(environment, version);
      for (const field of SHADOW_SUMS) s[field] = Number(h[field] ?? 0);
      shadows.set(key, s);
    });
    this.readShadows = shadows;
    const read = new Map<string, VersionFigures>();
    keys.forEach((k, i) => {
      const h = hashes[i];
      if (!h.count) return;
      const [environment, version] = k.split(SEP);
      const f = emptyFigures(environment, version);
      f.tally.count = Number(h.count);
      f.tally.errors = Number(h.errors ?? 0);
      f.tally.confidenceSum = Number(h.confidence_sum ?? 0);
      f.tally.confidenceCount = Number(h.confidence_count ?? 0);
      for (let b = 0; b < BOUNDS_MS.length; b++) f.tally.latency[b] = Number(h[`l${b}`] ?? 0);
      for (const [field, n] of Object.entries(h)) if (field.startsWith('label:')) f.labels.set(field.slice(6), Number(n));
      read.set(k, f);
    });
    this.read = read;
    this.startedAt = started;
  }

  /** A new experiment for every router: the sums start again, from now. */
  async reset(at: string): Promise<void> {
    const redis = this.state.redis;
    const [keys, shadowKeys] = await Promise.all([redis.smembers(this.key('report-index')), redis.smembers(this.key('shadow-index'))]);
    const multi = redis.multi();
    for (const k of keys) multi.del(this.key(`report:${k}`));
    for (const k of shadowKeys) multi.del(this.key(`shadow:${k}`));
    multi.del(this.key('report-index'));
    multi.del(this.key('shadow-index'));
    multi.set(this.key('started-at'), at);
    await multi.exec();
    this.pending = new Map();
    this.read = new Map();
    this.pendingShadows = new Map();
    this.readShadows = new Map();
    this.startedAt = at;
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Stops flushing, after one last flush of what this router answered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
