// One error shape for every response: { error, message }. Client mistakes keep their 4xx status and
// message; anything else is a 5xx whose details are logged, never returned.
import type { FastifyError, FastifyInstance } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { NON_BLANK_MESSAGE, NON_BLANK_PATTERN } from './schemas.ts';

const PATTERN_MESSAGES: Record<string, string> = { [`must match pattern "${NON_BLANK_PATTERN}"`]: NON_BLANK_MESSAGE };

function errorName(status: number): string {
  return (STATUS_CODES[status] ?? 'Error').replace(/[^A-Za-z]+/g, '_').replace(/_$/, '').toLowerCase();
}

function statusOf(err: FastifyError): number {
  const status = err.statusCode ?? 500;
  // ajv/JSON parse errors arrive as 400 with a code; anything outside 4xx/5xx is a bug.
  return status >= 400 && status < 600 ? status : 500;
}

/** "body/texts/1 must match pattern ..." → "body/texts/1 must contain a non-whitespace character". */
function validationMessage(err: FastifyError): string {
  const [first] = err.validation!;
  const where = `${err.validationContext ?? 'request'}${first.instancePath}`;
  const what = first.message ?? 'is invalid';
  return `${where} ${PATTERN_MESSAGES[what] ?? what}`;
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = statusOf(err);
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send({ error: errorName(status), message: status === 503 ? err.message : 'internal error' });
    }
    request.log.info({ code: err.code, msg: err.message }, 'client error');
    const message = err.validation ? validationMessage(err) : err.message;
    return reply.code(status).send({ error: errorName(status), message });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `route ${request.method} ${request.url.split('?')[0]} not found` });
  });
}
