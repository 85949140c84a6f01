// A client still sending its body when the request is refused (413, 401, 415…) must be able to
// read the answer: a socket closed with unread data makes the kernel reset the connection, and
// the client gets EPIPE instead of the 4xx. As nginx's lingering close does, the rest of the body
// is read and dropped before the answer goes out, within a bound of bytes and time.
import type { IncomingMessage } from 'node:http';

export const LINGER_MAX_BYTES = 64 * 1024 * 1024;
export const LINGER_MAX_MS = 5_000;

/** Resolves once the request's body has been read to its end, or the bound is reached. */
export function drainRequest(raw: IncomingMessage, maxBytes = LINGER_MAX_BYTES, maxMs = LINGER_MAX_MS): Promise<void> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('close', finish);
      raw.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    timer.unref();
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('close', finish);
    raw.once('error', finish);
    raw.resume();
  });
}
