// Secrets are compared in constant time (as digests, so lengths do not leak either).
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function safeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1] : null;
}

/** Does an Authorization header carry exactly this bearer token? */
export function hasBearerToken(header: string | undefined, token: string): boolean {
  const given = bearerToken(header);
  return given !== null && safeEqual(given, token);
}

/** API keys from API_KEYS (comma-separated) and/or API_KEYS_FILE (one per line, # comments). */
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
