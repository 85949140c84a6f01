// Dynamic micro-batching (as Triton's dynamic batcher): items from concurrent requests are queued
// and run together. A batch is dispatched when it is full, when the oldest item has waited
// maxWaitMs, or at once when a slot frees up while items wait (or, with overflowAfterMs, when the
// oldest running batch has overstayed); with minIntervalMs, a partial batch also waits until that
// long after the previous one left; while eager() says the load is light, items leave at once,
// whatever is running. The queue is bounded.
// The inference service batches texts for onnxruntime with it; the router coalesces /predict
// requests into /predict/batch calls with it.

export interface BatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  /** How many batches may run at the same time; a function when that changes (healthy replicas). */
  concurrency: number | (() => number);
  /**
   * Does a partial batch wait for companions when no batch is running? true (the default): yes,
   * up to maxWaitMs. false: it leaves at once, and partial batches wait (up to maxWaitMs) only
   * while another batch is running, as Nagle's algorithm holds small segments only while
   * unacknowledged data is in flight: no delay when idle, full batches under load.
   */
  waitWhenIdle?: boolean;
  /**
   * How long (ms) a running batch may hold back the next one: when every slot is taken, items
   * wait, and the oldest running batch has been out this long, one more batch leaves. Where a
   * batch goes to a process that may stall (preempted, collecting garbage), the next batch is
   * then already in its socket when it resumes, instead of leaving only after the stalled answer
   * comes back. Read at each decision; unset: never.
   */
  overflowAfterMs?: () => number;
  /**
   * How long (ms) after a batch leaves the next partial one may: items that find a slot free
   * sooner wait until then, or until the batch is full. Read at each decision; unset or 0: at
   * once. Where every batch wakes a process on shared cores, spacing them trades that much
   * latency for fewer, fuller batches.
   */
  minIntervalMs?: () => number;
  /**
   * Is the caller's load light enough that waiting buys nothing? While true, queued items leave at
   * once, whatever is running: the concurrency, maxWaitMs and minIntervalMs hold only while it is
   * false. Read at each decision; unset: never.
   */
  eager?: () => boolean;
}

/**
 * How a batch left: beyond the concurrency (overflowAfterMs), after waiting for minIntervalMs, or
 * at once while another was running because eager() said the load was light.
 */
export interface BatchDeparture {
  overflow: boolean;
  spaced: boolean;
  eager: boolean;
}

export type RunBatch<I, O> = (items: I[]) => Promise<O[]>;

interface Pending<I, O> {
  item: I;
  queuedAt: number;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export class QueueFull extends Error {
  override name = 'QueueFull';
}

export class MicroBatcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private running = 0;
  /** Start times of the running batches, oldest first. */
  private readonly startedAt = new Set<{ at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private idleWaiters: (() => void)[] = [];
  /** When the last batch left (performance.now() time). */
  private lastDispatchAt = -Infinity;
  /** The batch now forming has been held back by minIntervalMs. */
  private spaced = false;

  constructor(
    private readonly runBatch: RunBatch<I, O>,
    private readonly options: BatcherOptions,
    /** Called as each batch leaves. */
    private readonly onBatch: (size: number, departure: BatchDeparture) => void = () => {},
  ) {
    if (options.maxBatchSize < 1 || (typeof options.concurrency === 'number' && options.concurrency < 1) || options.maxQueue < 1) throw new RangeError('batcher sizes must be >= 1');
  }

  private get concurrency(): number {
    const { concurrency } = this.options;
    return Math.max(1, typeof concurrency === 'number' ? concurrency : concurrency());
  }

  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Queues items together (all or none) and resolves with their results in order. */
  submit(items: I[]): Promise<O[]> {
    if (this.queue.length + items.length > this.options.maxQueue) return Promise.reject(new QueueFull());
    const queuedAt = performance.now();
    const promises = items.map(
      (item) => new Promise<O>((resolve, reject) => this.queue.push({ item, queuedAt, resolve, reject })),
    );
    this.schedule();
    return Promise.all(promises);
  }

  /** One item: as submit([item]), without the arrays and the Promise.all (the router's every coalesced request). */
  submitOne(item: I): Promise<O> {
    if (this.queue.length + 1 > this.options.maxQueue) return Promise.reject(new QueueFull());
    const queuedAt = performance.now();
    const promise = new Promise<O>((resolve, reject) => this.queue.push({ item, queuedAt, resolve, reject }));
    this.schedule();
    return promise;
  }

  /** Resolves when nothing is queued or running (used while draining on shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    const { maxBatchSize, maxWaitMs, waitWhenIdle = true } = this.options;
    while (this.queue.length > 0) {
      if (this.options.eager?.()) {
        this.dispatch(true);
        continue;
      }
      const concurrency = this.concurrency;
      if (this.running >= concurrency) {
        const overflowAt = this.overflowAt(concurrency);
        if (performance.now() < overflowAt) {
          if (Number.isFinite(overflowAt)) this.wakeAt(overflowAt);
          return;
        }
      }
      // Wait for companions only while the batch is not full and its oldest item is younger than
      // maxWaitMs; items that queued up behind a busy model go out at once.
      const now = performance.now();
      if (this.queue.length < maxBatchSize && now - this.queue[0].queuedAt < maxWaitMs && (waitWhenIdle || this.running > 0)) return this.wakeAt(this.queue[0].queuedAt + maxWaitMs);
      const spacedUntil = this.lastDispatchAt + (this.options.minIntervalMs?.() ?? 0);
      if (this.queue.length < maxBatchSize && now < spacedUntil) {
        this.spaced = true;
        return this.wakeAt(spacedUntil);
      }
      this.dispatch();
    }
  }

  /**
   * When one batch beyond the concurrency may leave: while exactly every slot is taken, once the
   * oldest running batch has been out overflowAfterMs. Infinity: not now, or never.
   */
  private overflowAt(concurrency: number): number {
    const oldest = this.startedAt.values().next().value;
    if (!this.options.overflowAfterMs || !oldest || this.running !== concurrency) return Infinity;
    return oldest.at + this.options.overflowAfterMs();
  }

  /** Runs schedule() again at `due` (performance.now() time), unless a wake-up comes sooner. */
  private wakeAt(due: number): void {
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      this.schedule();
    }, Math.max(0, due - performance.now()));
  }

  private dispatch(eager = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.timerDue = Infinity;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    const started = { at: performance.now() };
    this.lastDispatchAt = started.at;
    this.startedAt.add(started);
    const departure = { overflow: !eager && this.running >= this.concurrency, spaced: this.spaced, eager: eager && this.running > 0 };
    this.spaced = false;
    this.running++;
    this.onBatch(batch.length, departure);
    this.runBatch(batch.map((p) => p.item))
      .then(
        (results) => batch.forEach((p, i) => p.resolve(results[i])),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      )
      .finally(() => {
        this.running--;
        this.startedAt.delete(started);
        this.schedule();
        if (this.queue.length === 0 && this.running === 0) this.idleWaiters.splice(0).forEach((w) => w());
      });
  }
}
