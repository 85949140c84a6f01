// pino options shared by every process: JSON lines, secrets redacted by fixed paths.
import type { LoggerOptions } from 'pino';
import { isOwnError } from './errors.ts';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
];

export function loggerOptions(level: string, component: string): LoggerOptions {
  return {
    level,
    base: { component },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}

/**
 * How a start-up failure is logged: a registry error (bad config, bad bundle) by its code and
 * reason alone, since its message says all; anything else with its stack.
 */
export const startupFailure = (err: unknown) => (isOwnError(err) ? { code: err.code, reason: err.message } : { err });
