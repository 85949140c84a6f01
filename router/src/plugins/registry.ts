// The model registry as a plugin: `app.registry` keeps each model version's stage and the release
// in progress, in the registry file (embedded) or the shared state store, and records every move
// in the decision trail. Which versions exist is the controller's report (GET /admin/models).
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { FileRegistryKeeper, StoreRegistryKeeper } from '../registry/keeper.ts';
import { ModelRegistry } from '../registry/registry.ts';

declare module 'fastify' {
  interface FastifyInstance {
    registry: ModelRegistry;
  }
}

const registry: FastifyPluginAsync<{ file?: string }> = async (app, { file }) => {
  const keeper = app.stateStore ? new StoreRegistryKeeper(app.stateStore) : await FileRegistryKeeper.open(file);
  const known = () => app.controllerReports.models?.models.map((m) => ({ model: m.name, version: m.version })) ?? null;
  app.decorate('registry', new ModelRegistry(keeper, app.history.record, known));
};

export const registryPlugin = fp(registry, { name: 'registry', dependencies: ['history', 'controller-reports', 'state-store'] });
