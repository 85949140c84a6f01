// Graceful close for keep-alive clients: once draining starts, every response asks the client to
// close its connection, so server.close() is not held open by idle keep-alive sockets.
import type { FastifyInstance } from 'fastify';

export function closeConnectionsWhileDraining(app: FastifyInstance, isDraining: () => boolean): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (isDraining()) reply.header('connection', 'close');
    done(null, payload);
  });
}
