// Graceful close for keep-alive clients: once draining starts, every response asks the client to
// close its connection, so server.close() is not held open by idle keep-alive sockets.
import type { FastifyInstance } from 'fastify';

export function closeConnectionsWhileDraining(app: FastifyInstance, isDraining: () => boolean): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (isDraining()) reply.header('connection', 'close');
    return payload;
  });
}
