// Feedback across routers: each router writes what it answered (environment, version, label) under
// the request id, so that feedback sent to any router finds it; the first feedback for a request
// claims it and counts it, in one script (so two routers receiving the same feedback count it once);
// every router reads the counts back each second for its report, its rollout analyses and its guard.
//
// Answers are kept in hashes, one per time bucket (a sixteenth of the feedback TTL), each expiring
// a TTL after its bucket ends: a batch of answers is one HSET and one PEXPIREAT. Measured with 70
// answers a batch, a key per answer with its own TTL cost the redis-server 10.0-10.5 µs of CPU per
// answer and the router 5.5-6.4; as fields of a bucket, 5.2-6.2 and 3.8-5.2. A lookup asks the
// buckets a TTL covers, newest first, in one script. An answer can so receive feedback for up to
// two buckets longer than the TTL, never less.
import type { StateStore } from './store.ts';

export interface SharedPrediction {
  environment: string;
  version: string;
  label: string;
}

/** Counts per `environment\0version`. */
export type FeedbackCounts = Map<string, { n: number; correct: number }>;

const SEP = '\u0000';

// KEYS: the request's truth key, the counts hash. ARGV: the label, its TTL in ms, the count field's
// prefix (environment\0version\0), 1 if the prediction was right.
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[3] .. 'n', 1)
  if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[2], ARGV[3] .. 'correct', 1) end
  return 1
end
return 0
`;

// KEYS: the buckets that may hold the request, newest first. ARGV: the request id. Its value, or nil.
const FIND = `
for _, key in ipairs(KEYS) do
  local value = redis.call('HGET', key, ARGV[1])
  if value then return value end
end
return false
`;

/** Buckets a TTL spans: a lookup asks this many hashes, plus the one being written. */
const BUCKETS_PER_TTL = 16;

/**
 * How long an answered prediction waits to be written with the others: fewer, larger batches cost
 * the router less; feedback sent to another router waits for a late write (LATE_WRITE_MS) longer.
 */
const REMEMBER_EVERY_MS = 20;

export class SharedFeedback {
  private cached: FeedbackCounts = new Map();
  /** Request ids and values of predictions not yet written, alternating. */
  private batch: string[] = [];
  private readonly bucketMs: number;
  private batchTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly state: StateStore,
    private readonly ttlMs: number,
  ) {
    state.redis.defineCommand('claimFeedback', { numberOfKeys: 2, lua: CLAIM });
    state.redis.defineCommand('findPrediction', { lua: FIND });
    this.bucketMs = Math.max(1000, Math.ceil(ttlMs / BUCKETS_PER_TTL));
  }

  /** Can feedback be recorded now? */
  get available(): boolean {
    return this.state.up;
  }

  /** A command of this module failed (the store is then skipped for a moment). */
  failed(operation: string, err: unknown): void {
    this.state.failed(operation, err);
  }

  private key(kind: string, id = ''): string {
    return `${this.state.prefix}${kind}${id}`;
  }

  private bucketKey(bucket: number): string {
    return this.key('predictions:', String(bucket));
  }

  /**
   * What this router answered, for feedback sent elsewhere: never delays the answer. Predictions
   * wait here a few milliseconds and leave together, one HSET for all of them (a command per
   * answer would cost the router more than the answer itself).
   */
  remember(requestId: string, p: SharedPrediction): void {
    if (!this.state.up) return this.state.skipped('remember_prediction');
    this.batch.push(requestId, `${p.environment}${SEP}${p.version}${SEP}${p.label}`);
    this.batchTimer ??= setTimeout(() => this.writeBatch(), REMEMBER_EVERY_MS);
  }

  private writeBatch(): void {
    const batch = this.batch;
    this.batch = [];
    this.batchTimer = null;
    if (batch.length === 0) return;
    const bucket = Math.floor(Date.now() / this.bucketMs);
    const key = this.bucketKey(bucket);
    // The bucket lives a TTL past its end: every answer in it, a TTL at least.
    this.state.redis
      .pipeline()
      .hset(key, ...batch)
      .pexpireat(key, (bucket + 1) * this.bucketMs + this.ttlMs)
      .exec()
      .then(
        (results) => {
          const failed = results?.find(([err]) => err)?.[0];
          if (failed) this.state.failed('remember_prediction', failed);
          else this.state.answered();
        },
        (err: unknown) => this.state.failed('remember_prediction', err),
      );
  }

  /** A prediction some router answered, or undefined. Throws when the store cannot be asked. */
  async find(requestId: string): Promise<SharedPrediction | undefined> {
    const now = Date.now();
    const newest = Math.floor(now / this.bucketMs);
    const oldest = Math.floor((now - this.ttlMs) / this.bucketMs) - 1;
    const keys: string[] = [];
    for (let b = newest; b >= oldest; b--) keys.push(this.bucketKey(b));
    const redis = this.state.redis as unknown as { findPrediction(n: number, ...args: string[]): Promise<string | null> };
    const value = await redis.findPrediction(keys.length, ...keys, requestId);
    if (value === null) return undefined;
    const [environment, version, label] = value.split(SEP);
    return { environment, version, label };
  }

  /** Claims and counts the feedback: false when the request already has some. */
  async claim(requestId: string, p: SharedPrediction, truth: string): Promise<boolean> {
    const redis = this.state.redis as unknown as { claimFeedback(k1: string, k2: string, truth: string, ttl: number, field: string, correct: string): Promise<number> };
    const claimed = (await redis.claimFeedback(this.key('truth:', requestId), this.key('feedback'), truth, this.ttlMs, `${p.environment}${SEP}${p.version}${SEP}`, p.label === truth ? '1' : '0')) === 1;
    if (claimed) {
      // Seen at once here; every other router sees it at its next refresh.
      const c = this.cached.get(`${p.environment}${SEP}${p.version}`) ?? { n: 0, correct: 0 };
      this.cached.set(`${p.environment}${SEP}${p.version}`, { n: c.n + 1, correct: c.correct + (p.label === truth ? 1 : 0) });
    }
    return claimed;
  }

  /** The counts as last read (every second), with this router's own claims since. */
  get counts(): FeedbackCounts {
    return this.cached;
  }

  async refresh(): Promise<void> {
    if (!this.state.up) return;
    try {
      const raw = await this.state.redis.hgetall(this.key('feedback'));
      const counts: FeedbackCounts = new Map();
      for (const [field, value] of Object.entries(raw)) {
        const cut = field.lastIndexOf(SEP);
        const key = field.slice(0, cut);
        const c = counts.get(key) ?? { n: 0, correct: 0 };
        if (field.slice(cut + 1) === 'n') c.n = Number(value);
        else c.correct = Number(value);
        counts.set(key, c);
      }
      this.cached = counts;
    } catch (err) {
      this.state.failed('feedback_counts', err, { background: true });
    }
  }

  /** A new experiment: the counts start again, for every router. */
  async reset(): Promise<void> {
    await this.state.redis.del(this.key('feedback'));
    this.cached = new Map();
  }

  start(intervalMs = 1000): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.writeBatch();
  }
}
