// The data path's HTTP adapter, in the style of @fastify/reply-from: a proxied route's request as
// the core sees it (its headers, client address, the model its path names, the body as bytes),
// and the core's outcome as the reply, the replica's answer byte for byte with the routing
// headers added. Failures go to the shared error handler, with the environment they were sent to.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { API_KEY_HEADER, ENVIRONMENT_HEADER, MODEL_VERSION_HEADER, OVERRIDE_HEADER, REQUEST_ID_HEADER } from '../../../shared/api/headers.ts';
import { PREDICT_PATH } from '../../../shared/api/prediction.ts';
import { isWarmUp } from '../../../shared/http/warm-up.ts';
import { coalescableText } from '../proxy/coalescer.ts';
import { endToEnd, forwardedFor } from '../proxy/headers.ts';
import type { DataPath, DataPathError, DataRequest } from './core.ts';

/** The request's headers as a replica gets them: end-to-end only, with the forwarding headers. */
export function outgoingHeaders(request: FastifyRequest): Record<string, string | string[]> {
  // The router's own credentials stop here: replicas never see an admin token or an API key.
  const headers = endToEnd(request.headers, [OVERRIDE_HEADER, 'authorization', API_KEY_HEADER]);
  headers['x-forwarded-for'] = forwardedFor(request.headers['x-forwarded-for'], request.ip);
  headers['x-forwarded-proto'] = request.protocol;
  headers[REQUEST_ID_HEADER] = request.id;
  return headers;
}

/**
 * A proxied route's request as the core sees it, read from fastify's request as the core asks:
 * one object a request, no closures (the client's address, for one, only when routing needs it).
 */
class HttpDataRequest implements DataRequest {
  readonly protocol = 'http';
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly model: DataRequest['model'];
  readonly warmUp: boolean;
  /** This request itself when it is a plain /predict (its text() reads the body). */
  readonly single: { text: () => string | undefined } | undefined;

  constructor(private readonly request: FastifyRequest) {
    this.id = request.id;
    this.headers = request.headers;
    this.model = request.params as DataRequest['model'];
    this.warmUp = isWarmUp(request.raw);
    this.single = request.url === PREDICT_PATH ? this : undefined;
  }

  get ip(): string {
    return this.request.ip;
  }

  outgoing() {
    return { path: this.request.url, headers: outgoingHeaders(this.request), body: this.request.body as Buffer | undefined };
  }

  text(): string | undefined {
    return coalescableText(this.request.body as Buffer | undefined, this.request.headers['content-type']);
  }
}

export function fromHttp(request: FastifyRequest): DataRequest {
  return new HttpDataRequest(request);
}

export function httpAdapter(dataPath: DataPath) {
  // The answers of one coalesced batch share its headers: they are filtered once, not per answer.
  let lastHeaders: IncomingHttpHeaders | undefined;
  let lastFiltered: Record<string, string | string[]> = {};
  const answerHeaders = (headers: IncomingHttpHeaders) => {
    if (headers !== lastHeaders) {
      lastFiltered = endToEnd(headers, [REQUEST_ID_HEADER]);
      lastHeaders = headers;
    }
    return lastFiltered;
  };
  return async function forward(request: FastifyRequest, reply: FastifyReply) {
    let outcome;
    try {
      outcome = await dataPath.handle(fromHttp(request), request.log);
    } catch (err) {
      const environment = (err as DataPathError).environment;
      if (environment !== undefined) reply.header(ENVIRONMENT_HEADER, environment);
      throw err;
    }
    return reply
      .code(outcome.status)
      .headers(answerHeaders(outcome.headers))
      .header(ENVIRONMENT_HEADER, outcome.served.name)
      .header(MODEL_VERSION_HEADER, outcome.version)
      .send(outcome.body);
  };
}
