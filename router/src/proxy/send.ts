// How a request travels once its environment is chosen: a plain {"text"} prediction joins the
// environment's next batch when coalescing is on (router-wide, and not turned off for the
// environment); anything else is proxied as it came, its body forwarded as bytes.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { PREDICT_PATH } from '../../../shared/api/prediction.ts';
import { REQUEST_ID_HEADER } from '../../../shared/http/request-id.ts';
import { OVERRIDE_HEADER } from '../routing/request-facts.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { EnvironmentCall } from './call.ts';
import { coalescableText, SEND_ALONE, type Coalescer } from './coalescer.ts';
import { endToEnd, forwardedFor } from './headers.ts';

export interface Sent {
  /** The environment that answered (another one when a retry crossed over). */
  served: EnvironmentSnapshot;
  /** The model version of the replica that answered. */
  version: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Send = (request: FastifyRequest, env: EnvironmentSnapshot) => Promise<Sent>;

/** The request's headers as a replica gets them: end-to-end only, with the forwarding headers. */
export function outgoingHeaders(request: FastifyRequest): Record<string, string | string[]> {
  // The router's own credentials stop here: replicas never see an admin token or an API key.
  const headers = endToEnd(request.headers, [OVERRIDE_HEADER, 'authorization', 'x-api-key']);
  headers['x-forwarded-for'] = forwardedFor(request.headers['x-forwarded-for'], request.ip);
  headers['x-forwarded-proto'] = request.protocol;
  headers[REQUEST_ID_HEADER] = request.id;
  return headers;
}

export function createSender(call: EnvironmentCall, coalescer?: Coalescer): Send {
  async function proxy(request: FastifyRequest, env: EnvironmentSnapshot): Promise<Sent> {
    const { result, served, version } = await call(env, { path: request.url, headers: outgoingHeaders(request), body: request.body as Buffer | undefined }, request.log);
    return { served, version, status: result.statusCode, headers: result.headers, body: result.body };
  }
  if (!coalescer) return proxy;
  return async function send(request, env) {
    const text = env.coalesce && request.url === PREDICT_PATH ? coalescableText(request.body as Buffer | undefined, request.headers['content-type']) : undefined;
    if (text === undefined) return proxy(request, env);
    const answer = await coalescer.predict(env, text, request.id);
    return answer === SEND_ALONE ? proxy(request, env) : answer;
  };
}
