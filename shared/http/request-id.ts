import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REQUEST_ID_HEADER } from '../api/headers.ts';
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Propagate a caller's X-Request-Id when it is safe to log, otherwise mint one. */
export function requestIdFrom(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}
