// What the deployment controller last reported (its deployments and the model registry), as
// `app.controllerReports`, shown by the admin API and exported as replica-count gauges, so
// Prometheus follows rollouts and autoscaling through the router it already scrapes.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { DeploymentStatus, ModelRegistryView } from '../../../shared/api/deployments.ts';

export interface ControllerReports {
  deployments: DeploymentStatus | null;
  models: ModelRegistryView | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    controllerReports: ControllerReports;
  }
}

const controllerReports: FastifyPluginAsync = async (app) => {
  const reports: ControllerReports = { deployments: null, models: null };
  const registers = [app.metricsRegistry];
  const perEnvironment = (name: string, help: string, read: (e: DeploymentStatus['environments'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['environment'],
      registers,
      collect() {
        this.reset();
        for (const e of reports.deployments?.environments ?? []) this.set({ environment: e.name }, read(e));
      },
    });
  perEnvironment('deployment_desired_replicas', 'Replicas the controller holds the environment at (the deployment file, or the autoscaler within its bounds)', (e) => e.desired_replicas);
  perEnvironment('deployment_ready_replicas', 'Replicas ready and registered with the router', (e) => e.ready_replicas);
  perEnvironment('deployment_updated_replicas', 'Replicas of the version the deployment asks for', (e) => e.updated_replicas);
  perEnvironment('deployment_update_failed', '1 while the environment\'s last update stopped on an error (the previous replicas keep serving)', (e) => (e.update.state === 'failed' ? 1 : 0));
  app.decorate('controllerReports', reports);
};

export const controllerReportsPlugin = fp(controllerReports, { name: 'controller-reports', dependencies: ['metrics'] });
