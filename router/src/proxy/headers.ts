// Header rewriting for a reverse proxy (RFC 9110 §7.6.1): hop-by-hop headers never cross.
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

/** The last Connection value read and its tokens: every replica answers the same one. */
let lastConnection: { text: string; tokens: ReadonlySet<string> } = { text: '', tokens: new Set() };

function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (text !== lastConnection.text) lastConnection = { text, tokens: new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean)) };
  return lastConnection.tokens;
}

/** Copies end-to-end headers, dropping hop-by-hop ones and any named in Connection. */
export function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, drop: readonly string[] = []): Record<string, string | string[]> {
  const listed = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  // for...in, not Object.entries: no array of pairs for every request.
  for (const name in headers) {
    const value = headers[name];
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || listed.has(lower) || drop.includes(lower)) continue;
    out[lower] = value;
  }
  return out;
}

export function forwardedFor(existing: string | string[] | undefined, clientIp: string): string {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  return prior ? `${prior}, ${clientIp}` : clientIp;
}
