// What the admin API and the GraphQL API both answer, computed once: the environments as they
// stand, and the rollback in one call.
import type { FastifyInstance } from 'fastify';

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
