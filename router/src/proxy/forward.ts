// The data path's HTTP adapter, in the style of @fastify/reply-from: choose where the request goes
// (choose.ts, the routing policy), send it (send.ts: proxied or coalesced, with retries), then
// either pass the answer on (onResponse) or record the failure (onError) and throw it to the shared
// error handler. Shadow traffic and guards hook in here without touching the policy.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER } from '../../../shared/http/request-id.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { Choose } from './choose.ts';
import { endToEnd } from './headers.ts';
import { ENVIRONMENT_HEADER, MODEL_VERSION_HEADER } from './routes.ts';
import type { Send, Sent } from './send.ts';


export interface ForwardHooks {
  choose: Choose;
  send: Send;
  onResponse: (request: FastifyRequest, answer: Sent, latencyMs: number) => void;
  onError: (request: FastifyRequest, target: EnvironmentSnapshot, err: unknown, latencyMs: number) => void;
}

export function createForwarder({ choose, send, onResponse, onError }: ForwardHooks) {
  return async function forward(request: FastifyRequest, reply: FastifyReply) {
    const started = performance.now();
    const target = choose(request);
    let answer: Sent;
    try {
      answer = await send(request, target);
    } catch (err) {
      onError(request, target, err, performance.now() - started);
      reply.header(ENVIRONMENT_HEADER, target.name);
      throw err;
    }
    onResponse(request, answer, performance.now() - started);
    return reply
      .code(answer.status)
      .headers(endToEnd(answer.headers, [REQUEST_ID_HEADER]))
      .header(ENVIRONMENT_HEADER, answer.served.name)
      .header(MODEL_VERSION_HEADER, answer.version)
      .send(answer.body);
  };
}
