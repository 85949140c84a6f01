// One error shape for every response: { error, message, code }. Errors from the registry
// (shared/errors.ts) answer with their own status, kind and message; Fastify's client errors
// (validation, body too large, bad content type) keep their 4xx status and message; anything else
// is a 500 whose details are logged, never returned. A 503 tells the client when to come back.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { errorKind, isOwnError, RouteNotFoundError } from '../errors.ts';
import { drainRequest } from './linger.ts';
import { NON_BLANK_MESSAGE, NON_BLANK_PATTERN } from './schemas.ts';

const PATTERN_MESSAGES: Record<string, string> = { [`must match pattern "${NON_BLANK_PATTERN}"`]: NON_BLANK_MESSAGE };
const RETRY_AFTER_SECONDS = '1';

function statusName(status: number): string {
  return (STATUS_CODES[status] ?? 'Error').replace(/[^A-Za-z]+/g, '_').replace(/_$/, '').toLowerCase();
}

/** "body/texts/1 must match pattern ..." → "body/texts/1 must contain a non-whitespace character". */
function validationMessage(err: FastifyError): string {
  const [first] = err.validation!;
  const where = `${err.validationContext ?? 'request'}${first.instancePath}`;
  const what = first.message ?? 'is invalid';
  return `${where} ${PATTERN_MESSAGES[what] ?? what}`;
}

export interface ErrorBody {
  error: string;
  message: string;
  code: string;
}

/** The status and body an error answers with. */
export function describeError(err: FastifyError): { status: number; body: ErrorBody } {
  if (isOwnError(err)) return { status: err.statusCode, body: { error: errorKind(err.code), message: err.message, code: err.code } };
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, body: { error: statusName(status), message: err.validation ? validationMessage(err) : err.message, code: err.code ?? `ERR_${statusName(status).toUpperCase()}` } };
  }
  return { status: 500, body: { error: 'internal_server_error', message: 'internal error', code: 'ERR_INTERNAL' } };
}

export function sendError(reply: FastifyReply, err: FastifyError): FastifyReply {
  const { status, body } = describeError(err);
  if (status >= 500) reply.log.error({ err }, 'request failed');
  else reply.log.info({ code: body.code, reason: body.message }, 'client error');
  if (status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', RETRY_AFTER_SECONDS);
  return reply.code(status).send(body);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    // Refused before its body was read: read the rest first, so the client can read the answer.
    if (!request.raw.complete && (err.statusCode ?? 500) < 500) await drainRequest(request.raw);
    return sendError(reply, err);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new RouteNotFoundError(request.method, request.url.split('?')[0])));
}
