// A typed client for the router, generated from its OpenAPI document (clients/router-api.ts, by
// npm run openapi) and spoken through openapi-fetch: every path, body, answer and error is typed.
//
//   const router = routerClient('http://127.0.0.1:8080', { adminToken });
//   const { data, error } = await router.POST('/predict', { body: { text: 'a triumph' } });
import createClient from 'openapi-fetch';
import { API_KEY_HEADER } from '../shared/api/headers.ts';
import type { paths } from './router-api.ts';

export type { components, operations, paths } from './router-api.ts';

export interface RouterCredentials {
  /** The admin token, for /admin. */
  adminToken?: string;
  /** A client key, where the router is configured with API keys. */
  apiKey?: string;
}

export function routerClient(baseUrl: string, credentials: RouterCredentials = {}) {
  const headers: Record<string, string> = {};
  if (credentials.adminToken) headers.authorization = `Bearer ${credentials.adminToken}`;
  if (credentials.apiKey) headers[API_KEY_HEADER] = credentials.apiKey;
  return createClient<paths>({ baseUrl, headers });
}
