// What the admin API and the GraphQL API both answer, computed once: the environments as they
// stand, the model registry with each bundle's stage, and the rollback in one call.
import type { FastifyInstance } from 'fastify';
import { stageKey } from '../registry/registry.ts';
import type { ModelsView, StageRecord } from '../registry/schema.ts';

/** Every environment: the weights file's, and those running replicas the file does not name yet (weight 0: traffic once given a weight). */
export function environmentsView(app: FastifyInstance) {
  const { weights, replicas, routingPolicy: routing } = app;
  const s = weights.snapshot;
  const shares = routing.liveShares();
  const unnamed = replicas.environmentNames().filter((name) => !s.environments.some((e) => e.name === name));
  return [...s.environments, ...unnamed.map((name) => ({ name, weight: 0, backup: false, shadow: 0, coalesce: true }))].map((e) => ({
    name: e.name,
    weight: e.weight,
    share: shares.get(e.name) ?? 0,
    model_versions: replicas.versions(e.name),
    backup: e.backup,
    shadow: e.shadow,
    coalesce: e.coalesce,
    healthy_replicas: replicas.availableCount(e.name),
    replicas: replicas.replicas(e.name).length,
  }));
}

/** Abort the rollout in progress, or stop the bandit and restore its weights, or restore the weights from before the last change; kept before it answers. */
export async function rollbackNow(app: FastifyInstance): Promise<{ weights: Record<string, number> }> {
  const { rollouts, history } = app;
  const result = await rollouts.rollback(async () => {
    const [last] = await history.list({ limit: 1, kind: 'weights' });
    return last?.weights_before ? { weights: last.weights_before } : undefined;
  });
  await history.flush();
  return result;
}

/** The controller's report of the bundles, each with its stage (null: no controller has reported). Stages the store cannot give are null, with why. */
export async function modelsView(app: FastifyInstance): Promise<ModelsView | null> {
  const report = app.controllerReports.models;
  if (!report) return null;
  let stages = new Map<string, StageRecord>();
  let registryError: string | null = null;
  try {
    stages = new Map((await app.registry.stages()).map((s) => [stageKey(s.model, s.version), s]));
  } catch (err) {
    registryError = (err as Error).message;
  }
  return {
    ...report,
    registry_error: registryError,
    models: report.models.map((m) => {
      const s = stages.get(stageKey(m.name, m.version));
      return { ...m, stage: registryError ? null : (s?.stage ?? 'candidate'), stage_since: s?.since ?? null, moves: s?.moves ?? [] };
    }),
  };
}
