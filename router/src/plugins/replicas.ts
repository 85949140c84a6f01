// Replicas as a plugin: `app.replicas` (every environment's replicas and their pools, kept in step
// with the weights file) and `app.health` (active checks and outlier detection). Checks stop when
// the app starts closing; pools close, after in-flight requests, when it has closed.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config.ts';
import { createReplicaMetrics } from '../metrics.ts';
import { HealthMonitor } from '../replicas/health.ts';
import { DnsDiscovery } from '../replicas/discovery.ts';
import { ReplicaRegistry } from '../replicas/registry.ts';

declare module 'fastify' {
  interface FastifyInstance {
    replicas: ReplicaRegistry;
    health: HealthMonitor;
  }
}

export type ReplicasOptions = Pick<RouterConfig, 'poolConnections' | 'timeouts' | 'health' | 'discovery'>;

const replicas: FastifyPluginAsync<ReplicasOptions> = async (app, config) => {
  const log = app.log as Logger;
  const registry = new ReplicaRegistry(
    { connections: config.poolConnections, connectTimeoutMs: config.timeouts.connectMs, headersTimeoutMs: config.timeouts.headersMs, bodyTimeoutMs: config.timeouts.bodyMs },
    log.child({ component: 'replicas' }),
  );
  const metrics = createReplicaMetrics(app.metricsRegistry, registry);
  const health = new HealthMonitor(registry, config.health, log.child({ component: 'health' }), {
    onEjection: (r) => metrics.ejections.inc({ environment: r.environment }),
  });
  const discovery = new DnsDiscovery(registry, config.discovery, log.child({ component: 'discovery' }), (environment, result) => metrics.discovery.inc({ environment, result }));
  registry.sync(app.weights.snapshot);
  discovery.sync(app.weights.snapshot);
  app.weights.onChange(({ after }) => {
    registry.sync(after);
    discovery.sync(after);
  });
  health.start();
  app.decorate('replicas', registry);
  app.decorate('health', health);
  app.addHook('preClose', async () => {
    discovery.stop();
    health.stop();
  });
  app.addHook('onClose', async () => registry.close());
};

export const replicasPlugin = fp(replicas, { name: 'replicas', dependencies: ['metrics', 'weights'] });
