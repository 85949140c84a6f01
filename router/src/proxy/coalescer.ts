// Request coalescing: concurrent POST /predict requests routed to the same environment travel to a
// replica together as one POST /predict/batch, and each client gets the answer /predict would
// have given it. A batch leaves at once when none of its environment is in flight, and otherwise
// waits (up to maxWaitMs, or until full) for one to come back, so an idle router adds no delay
// and a busy one sends fewer, fuller batches: one HTTP exchange, one wake-up of a replica and one
// onnxruntime run for many texts. With several processes sharing few cores, that exchange (not
// the model) is most of a small prediction's cost. Each replica takes one batch at a time per
// inference worker (the `concurrency` of its /info): a second one to a one-worker replica shortens
// waits at low load but, measured, costs a third of the throughput (bench/), while a replica with
// two workers and one batch leaves a worker idle; only a batch that has been out for 1.5 times the
// usual round trip lets one more leave. While the router is busy, partial batches also leave at
// most every busyIntervalMs per environment: replicas are woken less often, for fuller batches.
// Busy means both: the router held at least busyRequests coalesced requests (waiting or in a
// batch out) within the last 100 ms, and its event loop ran at least busyUtilization of the last
// window. Holding requests back pays only where the router itself is the bottleneck, so that
// what the replicas no longer spend goes to it; clients that wait for their answers send no more
// while theirs are held, so with few of them, or with a router that has time to spare (keep-alive
// clients), spacing would leave the cores idle for nothing (bench/RESULTS.md). Spacing that
// starves the router lowers its utilization, and so turns itself off. At the other end, while the
// router holds fewer than lightRequests coalesced requests (its own included), a request leaves at
// once even when its environment has a batch out: under light load the cores have time to spare,
// and waiting for that batch to come back would only add its round trip to the request's latency.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from '../../../shared/api/headers.ts';
import { BATCH_PATH, BatchResponse, singleAnswers, summaryOf, type AnswerSummary } from '../../../shared/api/prediction.ts';
import { MicroBatcher, QueueFull, type BatchDeparture } from '../../../shared/batching/micro-batcher.ts';
import { NoHealthyUpstreamError, OverloadedError } from '../../../shared/errors.ts';
import type { ReplicaRegistry } from '../replicas/registry.ts';
import type { EnvironmentSnapshot, WeightsSnapshot } from '../weights/snapshot.ts';
import type { EnvironmentCall } from './call.ts';
import { gatewayError } from './map-error.ts';

export interface CoalescerOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Batches in flight per environment at most; 0: as many as its available replicas run side by side. */
  maxInFlight?: number;
  /** While the router is busy, an environment's partial batches leave at most this often (ms); 0: off. */
  busyIntervalMs?: number;
  /** The router is busy while it holds at least this many coalesced requests... */
  busyRequests?: number;
  /** ...and its event loop runs at least this share of the time (0 to 1). */
  busyUtilization?: number;
  /** Below this many coalesced requests held (the new one included), a request leaves at once; 0 or unset: off. */
  lightRequests?: number;
}

export interface CoalescedAnswer {
  served: EnvironmentSnapshot;
  version: string;
  status: number;
  headers: IncomingHttpHeaders;
  /** A 200's body is the JSON text: Node writes it with the headers in one write, never encoded twice. */
  body: Buffer | string;
  /** What the body says, known without reading it back (a 200). */
  summary?: AnswerSummary;
}

/** The replica refused the batch (a 4xx): each request must go on its own to get its own answer. */
export const SEND_ALONE = 'send-alone';
export type CoalescedResult = CoalescedAnswer | typeof SEND_ALONE;

interface Item {
  text: string;
  requestId: string;
}

const batchAnswer = TypeCompiler.Compile(BatchResponse);

/** The text of a body that is exactly {"text": "..."}; anything else is forwarded as it came. */
export function coalescableText(body: Buffer | undefined, contentType: string | undefined): string | undefined {
  if (!body || !contentType?.toLowerCase().startsWith('application/json')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const text = (value as { text?: unknown }).text;
  return keys.length === 1 && typeof text === 'string' ? text : undefined;
}

/**
 * How long the router stays busy after it last held busyRequests: what it holds drops by a whole
 * batch each time one comes back, and under steady load those dips should not let the next
 * batches leave unspaced.
 */
const BUSY_HOLD_MS = 100;

/** Smoothing of the batch round-trip average: about the last ten batches count. */
const RTT_SMOOTHING = 0.1;
/**
 * A batch out this many average round trips is taken to be stuck behind a stalled replica. The
 * lower, the sooner the requests behind it leave, and the more often a batch that is merely slow
 * is overtaken, which splits the next batches; 1.5 and 2 measured alike with `ab` on npm start.
 */
const OVERFLOW_AFTER_ROUND_TRIPS = 1.5;

export class Coalescer {
  private readonly batchers = new Map<string, MicroBatcher<Item, CoalescedResult>>();
  /** Requests held, of every environment: waiting for a batch or in one that is out. */
  private heldRequests = 0;
  /** Busy until then (performance.now() time): busyRequests were held within BUSY_HOLD_MS. */
  private busyUntil = -Infinity;
  /** Per environment, the smoothed round trip of a batch in ms. */
  private readonly roundTripMs = new Map<string, number>();

  constructor(
    private readonly options: CoalescerOptions,
    private readonly weights: () => WeightsSnapshot,
    private readonly registry: ReplicaRegistry,
    private readonly call: EnvironmentCall,
    private readonly log: Logger,
    private readonly onBatch: (environment: string, size: number, departure: BatchDeparture) => void = () => {},
    /** The router's event loop utilization over the last window (0 to 1). */
    private readonly utilization: () => number = () => 1,
  ) {}

  /** Requests held, of every environment: waiting for a batch or in one that is out. */
  get held(): number {
    return this.heldRequests;
  }

  /** Throws OverloadedError when the environment's queue is full, else as EnvironmentCall does. */
  predict(env: EnvironmentSnapshot, text: string, requestId: string): Promise<CoalescedResult> {
    // The clock is read only where spacing is on and the count reaches the mark.
    if (++this.heldRequests >= (this.options.busyRequests ?? 1) && this.options.busyIntervalMs) this.busyUntil = performance.now() + BUSY_HOLD_MS;
    return this.batcher(env.name)
      .submitOne({ text, requestId })
      .then(this.release, this.releaseFailed);
  }

  // One promise after the batcher's, not three: every coalesced request passes here.
  private readonly release = (result: CoalescedResult): CoalescedResult => {
    this.heldRequests--;
    return result;
  };

  private readonly releaseFailed = (err: unknown): never => {
    this.heldRequests--;
    throw err instanceof QueueFull ? new OverloadedError({ cause: err }) : err;
  };

  /** How long after an environment's batch leaves the next partial one may, now. */
  private spacingMs(): number {
    const { busyIntervalMs = 0, busyUtilization = 0 } = this.options;
    return busyIntervalMs > 0 && performance.now() < this.busyUntil && this.utilization() >= busyUtilization ? busyIntervalMs : 0;
  }

  private batcher(name: string): MicroBatcher<Item, CoalescedResult> {
    let batcher = this.batchers.get(name);
    if (!batcher) {
      batcher = new MicroBatcher((items) => this.send(name, items), {
        maxBatchSize: this.options.maxBatch,
        maxWaitMs: this.options.maxWaitMs,
        maxQueue: this.options.maxBatch * 64,
        // As many batches in flight as the available replicas run side by side (one each unless a
        // replica has several inference workers), or fewer when capped; each replica batches again
        // inside.
        concurrency: () => {
          const replicas = this.registry.availableConcurrency(name);
          return this.options.maxInFlight ? Math.min(this.options.maxInFlight, replicas) : replicas;
        },
        waitWhenIdle: false,
        // A batch out well past the usual round trip is stuck behind a stalled replica: the next
        // one goes anyway, to be read as soon as the replica resumes.
        overflowAfterMs: () => Math.max(this.options.maxWaitMs, OVERFLOW_AFTER_ROUND_TRIPS * (this.roundTripMs.get(name) ?? Infinity)),
        minIntervalMs: () => this.spacingMs(),
        eager: this.options.lightRequests ? () => this.heldRequests < this.options.lightRequests! : undefined,
      }, (size, departure) => this.onBatch(name, size, departure));
      this.batchers.set(name, batcher);
    }
    return batcher;
  }

  private recordRoundTrip(name: string, ms: number): void {
    const average = this.roundTripMs.get(name);
    this.roundTripMs.set(name, average === undefined ? ms : average + RTT_SMOOTHING * (ms - average));
  }

  private async send(name: string, items: Item[]): Promise<CoalescedResult[]> {
    // The environment as configured now: a reload between queueing and sending may have changed it.
    const env = this.weights().environments.find((e) => e.name === name);
    if (!env) throw new NoHealthyUpstreamError();
    const batchId = randomUUID();
    if (this.log.isLevelEnabled('debug')) this.log.debug({ batch: batchId, environment: name, requests: items.map((i) => i.requestId) }, 'coalesced requests');
    const started = performance.now();
    const { result, served, version } = await this.call(
      env,
      { path: BATCH_PATH, headers: { 'content-type': 'application/json', [REQUEST_ID_HEADER]: batchId }, body: JSON.stringify({ texts: items.map((i) => i.text) }) },
      this.log,
      // A batch that finds the replicas idle goes to the same warm one (routing/replica.ts).
      { packTies: true },
    ).finally(() => this.recordRoundTrip(name, performance.now() - started));
    if (result.statusCode >= 400 && result.statusCode < 500) return items.map(() => SEND_ALONE);
    if (result.statusCode !== 200) return items.map(() => ({ served, version, status: result.statusCode, headers: result.headers, body: result.body }));
    let answer: unknown;
    try {
      answer = JSON.parse(result.body.toString('utf8'));
    } catch (err) {
      throw gatewayError(err, served.name, 'batch answer', version);
    }
    if (!batchAnswer.Check(answer) || answer.predictions.length !== items.length) throw gatewayError(new Error('batch answer does not match the batch'), served.name, 'batch answer', version);
    return singleAnswers(answer).map((single) => ({ served, version, status: 200, headers: result.headers, body: JSON.stringify(single), summary: summaryOf(single) }));
  }
}
