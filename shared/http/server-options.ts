// Fastify options both processes use: strict validation (no type coercion, extra fields rejected),
// request ids, pino logging with redaction.
import { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { loggerOptions } from '../logger.ts';
import { REQUEST_ID_HEADER } from '../api/headers.ts';
import { requestIdFrom } from './request-id.ts';
import { requestLoggerFactory } from './request-logger.ts';

export const REQUEST_TIMEOUT_MS = 30_000;

export function serverOptions(opts: { logLevel: string; component: string; bodyLimit: number }): FastifyServerOptions {
  return {
    logger: loggerOptions(opts.logLevel, opts.component),
    bodyLimit: opts.bodyLimit,
    genReqId: requestIdFrom,
    requestIdHeader: REQUEST_ID_HEADER,
    // Per-request access lines are left to each app's onResponse hook (at debug level).
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    // request.log is made when a request first logs, not for each one.
    childLoggerFactory: requestLoggerFactory,
    // A whole request (headers and body) must arrive within this; a client trickling bytes
    // (slowloris) is cut off instead of holding a connection for good.
    requestTimeout: REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  };
}

/** The APIs speak JSON only: other content types get 415 instead of a confusing 400. */
export function acceptJsonOnly(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
}
