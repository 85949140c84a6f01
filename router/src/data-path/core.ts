// The data path, in one place and free of any protocol. Every prediction the router takes — REST
// /predict and /predict/batch, the Open Inference Protocol's infer over REST (versioned or not)
// and over gRPC — goes through handle():
//   decide  (decide.ts: X-Route-To, a named model version, the sticky key, the weights, the
//            guard's vetoes, failover, backups)
//   send    (a plain prediction joins its environment's next batch when coalescing is on; anything
//            else is proxied: replica pick, in-flight limit, shedding, hedge, retry, ejection — call.ts)
//   observe (metrics, sliding windows, the experiment and its feedback memory — observe.ts)
//   mirror  (a share of plain predictions to shadow environments, after the answer — shadow.ts)
// Adapters (http-adapter.ts, grpc/service.ts) translate a request in and an outcome out, and
// nothing else: a new protocol is a new adapter. Metadata and readiness questions (query) take the
// same decision and the same send, and are not counted as predictions.
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { REQUEST_ID_HEADER } from '../../../shared/api/headers.ts';
import { answerSummary, type AnswerSummary } from '../../../shared/api/prediction.ts';
import type { Shadow } from '../experiments/shadow.ts';
import type { Answered, EnvironmentCall, OutgoingRequest } from '../proxy/call.ts';
import { SEND_ALONE, type Coalescer } from '../proxy/coalescer.ts';
import { isGatewayError } from '../proxy/map-error.ts';
import type { Observer, Protocol } from '../proxy/observe.ts';
import type { RetryBudget } from '../proxy/retry-budget.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { Decide, RoutedRequest } from './decide.ts';

export interface DataRequest extends RoutedRequest {
  /** The request id: echoed to the client, sent to the replica, and what POST /feedback names. */
  id: string;
  protocol: Protocol;
  /** The request as a replica gets it; built only when it is proxied or mirrored. */
  outgoing: () => OutgoingRequest;
  /** The router's own warm-up request (warm-up.ts): answered as any, counted as no prediction. */
  warmUp?: boolean;
  /** A plain single prediction ({"text"} to /predict): may join a batch, and is mirrored to shadows. */
  single?: {
    /** Its text, when the body is exactly {"text": "..."} (read only when it may be coalesced). */
    text: () => string | undefined;
  };
}

/** What answered a request: a replica's status, headers and body, and where it came from. */
export interface Outcome {
  /** The environment that answered (another one when a retry crossed over). */
  served: EnvironmentSnapshot;
  /** The model version of the replica that answered. */
  version: string;
  status: number;
  headers: IncomingHttpHeaders;
  /** The replica's bytes; a coalesced answer's JSON text. */
  body: Buffer | string;
  /** What a /predict answer's body says, when known without reading it (a coalesced answer). */
  summary?: AnswerSummary;
  latencyMs: number;
}

/** A failure of the send stage carries the environment it was sent to (for the answer's headers). */
export type DataPathError = Error & { environment?: string };

export interface DataPathDeps {
  decide: Decide;
  call: EnvironmentCall;
  /** Every request sent is counted, so that retries and hedges stay within their share. */
  budget: RetryBudget;
  coalescer?: Coalescer;
  shadow: Shadow;
  observer: Observer;
}

export interface DataPath {
  /** decide → send → observe → mirror; throws the registry's errors, already counted. */
  handle(request: DataRequest, log: FastifyBaseLogger): Promise<Outcome>;
  /** decide → send, for a replica's metadata or readiness (GET); not counted as a prediction. */
  query(request: RoutedRequest & { path: string }, log: FastifyBaseLogger): Promise<Answered>;
}

export function createDataPath({ decide, call, budget, coalescer, shadow, observer }: DataPathDeps): DataPath {
  const versionOnly = (request: RoutedRequest) => (request.model?.version === undefined ? undefined : { modelVersion: request.model.version });

  async function send(env: EnvironmentSnapshot, request: DataRequest, log: FastifyBaseLogger): Promise<Omit<Outcome, 'latencyMs'>> {
    const text = coalescer && env.coalesce && request.single ? request.single.text() : undefined;
    if (text !== undefined) {
      const answer = await coalescer!.predict(env, text, request.id);
      if (answer !== SEND_ALONE) return answer;
    }
    const { result, served, version } = await call(env, request.outgoing(), log, versionOnly(request));
    return { served, version, status: result.statusCode, headers: result.headers, body: result.body };
  }

  return {
    async handle(request, log) {
      const started = performance.now();
      const target = decide(request);
      budget.recordRequest();
      let answer: Omit<Outcome, 'latencyMs'>;
      try {
        answer = await send(target, request, log);
      } catch (err) {
        if (isGatewayError(err) && !request.warmUp) observer.failed(request.id, target.name, err.modelVersion, err.statusCode ?? 502, performance.now() - started, request.protocol);
        if (err instanceof Error) (err as DataPathError).environment ??= target.name;
        throw err;
      }
      // The answer is this request's own object (a coalesced one's too): completed in place.
      const outcome = answer as Outcome;
      const latencyMs = (outcome.latencyMs = performance.now() - started);
      if (request.warmUp) return outcome;
      // What the answer says, read once (or known already, for a coalesced one) for every observer.
      const summary = answer.status === 200 ? (answer.summary ?? answerSummary(typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body)) : null;
      observer.answered(request.id, answer.served.name, answer.version, answer.status, summary, latencyMs, request.protocol);
      if (request.single && answer.status === 200 && shadow.active) {
        const outgoing = request.outgoing();
        shadow.mirror({ ...outgoing, headers: { ...outgoing.headers, [REQUEST_ID_HEADER]: `${request.id}-shadow` } }, { environment: answer.served.name, summary, latencyMs });
      }
      return outcome;
    },

    query(request, log) {
      return call(decide(request), { method: 'GET', path: request.path, headers: {}, body: undefined }, log, versionOnly(request));
    },
  };
}
