// Failures talking to a replica → the registry's gateway errors (502/503/504), by undici's error
// codes (never by message), as @fastify/reply-from's lib/errors.js does.
import { BadGatewayError, UpstreamTimeoutError, UpstreamUnreachableError } from '../../../shared/errors.ts';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED']);

export type GatewayError = InstanceType<typeof BadGatewayError> & {
  /** The environment the request was sent to, and the replica that failed and its version. */
  environment: string;
  replica: string;
  modelVersion: string;
};

const causeCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code ?? '';

/** The request never reached a replica's handler, so sending it elsewhere is safe. */
export const isRetryable = (err: unknown): boolean => CONNECT_ERRORS.has(causeCode(err));

export function gatewayError(err: unknown, environment: string, replica: string, modelVersion: string): GatewayError {
  const code = causeCode(err);
  const Err = TIMEOUT_ERRORS.has(code) || (err as Error).name === 'TimeoutError' ? UpstreamTimeoutError : CONNECT_ERRORS.has(code) ? UpstreamUnreachableError : BadGatewayError;
  return Object.assign(new Err(environment, { cause: err }), { environment, replica, modelVersion });
}

const GATEWAY_CODES = new Set([new BadGatewayError('').code, new UpstreamTimeoutError('').code, new UpstreamUnreachableError('').code]);
export const isGatewayError = (err: unknown): err is GatewayError => GATEWAY_CODES.has((err as { code?: string })?.code ?? '');
