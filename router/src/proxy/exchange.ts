// One request/response exchange on an undici dispatcher, collecting the (small, JSON) response
// into a Buffer through a raw dispatch handler: no Readable stream and no promise per chunk on
// the data path. Responses larger than maxBodyBytes are aborted.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { ResponseTooLargeError } from '../../../shared/errors.ts';

export interface Exchanged {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An exchange in progress; abort() ends it with the given error (a hedge that lost, say). */
export type PendingExchange = Promise<Exchanged> & { abort: (reason: Error) => void };

export function exchange(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, maxBodyBytes: number): PendingExchange {
  let controller: Dispatcher.DispatchController | undefined;
  let abortedWith: Error | undefined;
  let fail: (reason: Error) => void = () => {};
  const pending = new Promise<Exchanged>((resolve, reject) => {
    fail = reject;
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    dispatcher.dispatch(options, {
      // Its presence tells undici this handler speaks the v7 controller API.
      onRequestStart(c) {
        controller = c;
        if (abortedWith) c.abort(abortedWith);
      },
      onResponseStart(_controller, status, responseHeaders) {
        statusCode = status;
        headers = responseHeaders;
      },
      onResponseData(controller, chunk) {
        size += chunk.length;
        if (size > maxBodyBytes) controller.abort(new ResponseTooLargeError(maxBodyBytes));
        else chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ statusCode, headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
      },
      onResponseError(_controller, error) {
        reject(error);
      },
    });
  }) as PendingExchange;
  // Settled at once, even while the request still waits in the pool for a connection (a hung
  // replica holds them all); undici drops it when it gets that far.
  pending.abort = (reason) => {
    abortedWith = reason;
    controller?.abort(reason);
    fail(reason);
  };
  return pending;
}
