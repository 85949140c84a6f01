// Dynamic micro-batching (as Triton's dynamic batcher): items from concurrent requests are queued
// and run together. A batch is dispatched when it is full, when the oldest item has waited
// maxWaitMs, or at once when a slot frees up while items wait. The queue is bounded.
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
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly runBatch: RunBatch<I, O>,
    private readonly options: BatcherOptions,
    private readonly onBatch: (size: number) => void = () => {},
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

  /** Resolves when nothing is queued or running (used while draining on shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    const { maxBatchSize, maxWaitMs, waitWhenIdle = true } = this.options;
    while (this.running < this.concurrency && this.queue.length > 0) {
      // Wait for companions only while the batch is not full and its oldest item is younger than
      // maxWaitMs; items that queued up behind a busy model go out at once.
      const waited = performance.now() - this.queue[0].queuedAt;
      if (this.queue.length < maxBatchSize && waited < maxWaitMs && (waitWhenIdle || this.running > 0)) {
        this.timer ??= setTimeout(() => {
          this.timer = null;
          this.schedule();
        }, maxWaitMs - waited);
        return;
      }
      this.dispatch();
    }
  }

  private dispatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    this.running++;
    this.onBatch(batch.length);
    this.runBatch(batch.map((p) => p.item))
      .then(
        (results) => batch.forEach((p, i) => p.resolve(results[i])),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      )
      .finally(() => {
        this.running--;
        this.schedule();
        if (this.queue.length === 0 && this.running === 0) this.idleWaiters.splice(0).forEach((w) => w());
      });
  }
}
