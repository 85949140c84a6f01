// The router's credentials: the admin and read-only tokens (bearer, or a Basic password) and the
// data path's API keys, all compared in constant time (shared/http/secrets.ts).
import fs from 'node:fs';
import { bearerToken, digest, safeEqual } from '../../shared/http/secrets.ts';

/** The password of a Basic Authorization header (a browser's login prompt); the user name is ignored. */
export function basicPassword(header: string | undefined): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

export interface AccessTokens {
  /** Everything under /admin and the dashboard. */
  admin: string;
  /** Reading only: GET on /admin and the dashboard. */
  read?: string;
}

export type Access = 'admin' | 'read';

/** What an Authorization header (Bearer, or Basic with the token as password) may do. */
export function accessOf(header: string | undefined, tokens: AccessTokens): Access | null {
  const given = bearerToken(header) ?? basicPassword(header);
  if (given === null) return null;
  if (safeEqual(given, tokens.admin)) return 'admin';
  if (tokens.read !== undefined && safeEqual(given, tokens.read)) return 'read';
  return null;
}

/** API keys from ROUTER_API_KEYS (comma-separated) and/or the api_keys_file (one per line, # comments). */
export function loadApiKeys(options: { inline?: string; file?: string }): Set<string> | null {
  const keys = [
    ...(options.inline?.split(',') ?? []),
    ...(options.file ? fs.readFileSync(options.file, 'utf8').split('\n').filter((l) => !l.trim().startsWith('#')) : []),
  ]
    .map((k) => k.trim())
    .filter(Boolean);
  return keys.length ? new Set(keys.map((k) => digest(k).toString('hex'))) : null;
}

export function apiKeyAllowed(keys: Set<string>, given: string | undefined): boolean {
  return given !== undefined && keys.has(digest(given).toString('hex'));
}
