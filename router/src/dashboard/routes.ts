// GET /dashboard: the live page, behind the admin or the read-only token. A browser without
// credentials gets the Basic login prompt; the page then reads /admin with the same credentials.
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import type { AccessTokens } from '../auth.ts';
import { ADMIN_SECURITY, requireAccess } from '../admin/access.ts';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './page.ts';

export const DASHBOARD_PATH = '/dashboard';

export const dashboardRoutes: FastifyPluginAsync<{ tokens: AccessTokens }> = async (app, { tokens }) => {
  app.addHook('onRequest', requireAccess(tokens));
  app.get(DASHBOARD_PATH, {
    schema: {
      tags: ['dashboard'],
      operationId: 'dashboard',
      summary: 'The live dashboard: split, rps, errors, latency and confidence per environment, replicas, the rollout and the decision trail',
      security: ADMIN_SECURITY,
      produces: ['text/html'],
      response: { 200: { type: 'string', 'x-response-description': 'the page (self-contained HTML)' }, 401: ErrorResponse },
    },
  }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', DASHBOARD_CSP)
      .send(DASHBOARD_HTML),
  );
};
