// The routing policy bound to this router's weights and replicas, as `app.routingPolicy`.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Routing } from '../routing/routing.ts';

declare module 'fastify' {
  interface FastifyInstance {
    routingPolicy: Routing;
  }
}

const routing: FastifyPluginAsync = async (app) => {
  app.decorate('routingPolicy', new Routing(() => app.weights.snapshot, (environment) => app.replicas.isAvailable(environment)));
};

export const routingPlugin = fp(routing, { name: 'routing-policy', dependencies: ['weights', 'replicas'] });
