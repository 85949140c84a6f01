// What a process's warm-up (services/inference/src/warm-up.ts, router/src/warm-up.ts) shares: a
// private loopback listener into the app's own HTTP server, how to know a request came
// through it, and texts of the lengths and kinds served. V8 optimizes by the calls a process has
// seen, so a process that sends itself its usual traffic before it takes clients' serves them at
// the cost of a process that has been running a while (bench/RESULTS.md).
import type http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { noDelayFromListener } from './no-delay.ts';

/** Texts of the lengths and kinds served: short and long, positive, negative and neutral. */
export const WARM_UP_TEXTS = [
  'a gripping , beautifully acted film',
  'dull',
  'the plot is thin and the jokes fall flat , but the cast seems to be having a good time',
  'I would not watch it again.',
  'an uneven , occasionally brilliant portrait of a family coming apart at the seams',
  'It is a movie about a man who goes to work.',
  'Worst two hours I have spent in a cinema this year!!',
  'the soundtrack alone is worth the price of admission',
  'neither as funny nor as moving as it wants to be',
  'A quiet, patient film that rewards attention; the final scene stays with you for days.',
  'meh',
  'the director knows exactly what he is doing , and it shows in every frame',
] as const;

/** How much warm-up a process asks for (its settings): the service's and the router's alike. */
export interface WarmUpBounds {
  /** Requests to send; 0: none. */
  requests: number;
  /** Stop sending after this long, whatever the count. */
  maxMs: number;
}

const sockets = new WeakSet<Socket>();

/** Whether a request came in through a warm-up listener (and so from the process itself); a call that came another way (gRPC) has no raw request. */
export function isWarmUp(raw: http.IncomingMessage | undefined): boolean {
  return raw !== undefined && sockets.has(raw.socket);
}

export interface WarmUpListener {
  /** http://127.0.0.1:<port> */
  origin: string;
  close(): Promise<void>;
}

/**
 * Opens a listener on a free loopback port whose connections go to the app's own HTTP server, as
 * if it had accepted them itself (and, like it, with TCP_NODELAY and half-open sockets): V8 then
 * learns the objects and paths clients' connections will take, not those of another server.
 */
export async function openWarmUpListener(app: FastifyInstance): Promise<WarmUpListener> {
  await app.ready();
  const open = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    app.server.emit('connection', socket);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  noDelayFromListener(server);
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
