// Who may use /admin and the dashboard: the admin token for everything, the read-only token for
// GET. Either comes as a bearer token or as the password of a browser's Basic login prompt, so a
// person opens the dashboard with nothing but the browser.
import type { onRequestHookHandler } from 'fastify';
import { ReadOnlyTokenError, UnauthorizedError } from '../../../shared/errors.ts';
import { accessOf, type AccessTokens } from '../auth.ts';

/** One challenge per header: browsers read a Basic challenge only when it stands alone. */
export const AUTH_CHALLENGES = ['Basic realm="sentiment-router", charset="UTF-8"', 'Bearer realm="sentiment-router"'];

/** Security requirements of the protected operations, as OpenAPI writes them. */
export const ADMIN_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { basicAuth: [] }];

const reads = new Set(['GET', 'HEAD']);

export function requireAccess(tokens: AccessTokens): onRequestHookHandler {
  return (request, reply, done) => {
    const access = accessOf(request.headers.authorization, tokens);
    if (access === 'admin' || (access === 'read' && reads.has(request.method))) return done();
    if (access === 'read') return done(new ReadOnlyTokenError(`${request.method} ${request.routeOptions.url ?? request.url}`));
    reply.header('www-authenticate', AUTH_CHALLENGES);
    done(new UnauthorizedError('admin or read-only token'));
  };
}
