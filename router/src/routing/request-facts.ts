// What a request says about where it may go, read from its headers alone: an environment it
// forces (X-Route-To) and the user key that keeps an A/B assignment sticky (a header or cookie).
import type { IncomingHttpHeaders } from 'node:http';
import { OVERRIDE_HEADER } from '../../../shared/api/headers.ts';

export interface RequestFacts {
  /** The environment named by X-Route-To (allowed only to admins and allow-listed addresses). */
  forced?: string;
  /** Sticky assignment key: the same key lands in the same environment for a weight set. */
  userKey?: string;
}

export interface Assignment {
  /** Lower-case header name. */
  header?: string;
  cookie?: string;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return part.slice(eq + 1).trim(); // a malformed escape is still a usable key
      }
    }
  }
  return undefined;
}

export function requestFacts(headers: IncomingHttpHeaders, assignment: Assignment): RequestFacts {
  const forced = headers[OVERRIDE_HEADER];
  const fromHeader = assignment.header ? headers[assignment.header] : undefined;
  const userKey = typeof fromHeader === 'string' && fromHeader !== '' ? fromHeader : assignment.cookie ? cookieValue(headers.cookie, assignment.cookie) : undefined;
  return { forced: typeof forced === 'string' ? forced : undefined, userKey: userKey || undefined };
}
