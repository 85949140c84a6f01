// Secrets are compared in constant time (as digests, so lengths do not leak either).
import { createHash, timingSafeEqual } from 'node:crypto';

export const digest = (s: string) => createHash('sha256').update(s).digest();

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
