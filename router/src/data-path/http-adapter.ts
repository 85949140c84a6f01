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

export function fromHttp(request: FastifyRequest): DataRequest {
  const body = request.body as Buffer | undefined;
  return {
    id: request.id,
    protocol: 'http',
    headers: request.headers,
    ip: request.ip,
    model: request.params as DataRequest['model'],
    outgoing: () => ({ path: request.url, headers: outgoingHeaders(request), body }),
    warmUp: isWarmUp(request.raw),
    single: request.url === PREDICT_PATH ? { text: () => coalescableText(body, request.headers['content-type']) } : undefined,
  };
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
