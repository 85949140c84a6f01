// A process's lifecycle as a plugin both apps register first: `app.lifecycle` says whether it is
// ready (onReady) or draining (preClose, before Fastify stops taking requests), every response
// carries its request id, and while draining every response asks the client to close its
// connection, so server.close() is not held open by idle keep-alive sockets.
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { REQUEST_ID_HEADER } from '../api/headers.ts';

export interface Lifecycle {
  ready: boolean;
  /** Its warm-up runs on its open port (the router's, warm-up.ts): not yet ready for clients. */
  warming: boolean;
  draining: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

const lifecycle: FastifyPluginCallback = (app, _opts, done) => {
  const state: Lifecycle = { ready: false, warming: false, draining: false };
  app.decorate('lifecycle', state);
  // Callback-style hooks: they run on every request, and skip the promise an async hook costs.
  app.addHook('onRequest', (request, reply, next) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    next();
  });
  app.addHook('onSend', (_request, reply, payload, next) => {
    if (state.draining) reply.header('connection', 'close');
    next(null, payload);
  });
  app.addHook('onReady', (next) => {
    state.ready = true;
    next();
  });
  app.addHook('preClose', (next) => {
    state.draining = true;
    next();
  });
  done();
};

export const lifecyclePlugin = fp(lifecycle, { name: 'lifecycle' });
