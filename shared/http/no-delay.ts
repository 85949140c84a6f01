// TCP_NODELAY for every connection a listener accepts, set once on the listening socket: Linux
// copies it to each accepted socket, where Node's HTTP server would otherwise make a setsockopt
// call per connection. With a new connection per request (the seed's `ab`), that call is a
// measurable share of what the router spends on a request (bench/RESULTS.md).
import type { Server } from 'node:net';

interface ListeningHandle {
  setNoDelay?: (enable: boolean) => number;
}

/** Moves TCP_NODELAY to the listening socket; elsewhere than Linux, or if that fails, Node's per-connection call stays. */
export function noDelayFromListener(server: Server): boolean {
  const handle = (server as unknown as { _handle?: ListeningHandle })._handle;
  if (process.platform !== 'linux' || typeof handle?.setNoDelay !== 'function' || handle.setNoDelay(true) !== 0) return false;
  (server as unknown as { noDelay: boolean }).noDelay = false;
  return true;
}
