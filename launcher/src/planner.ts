// The rolling-update plan for one environment, as a Kubernetes Deployment controller makes it, and
// free of processes and time so that it is tested directly. Given the desired template (model and
// version) and replica count and the replicas that exist, it says which to start and which to stop
// now: new replicas of the template, at most max_surge above the desired count, and old ones (or
// extra ones) only while at least desired − max_unavailable replicas stay ready. Called again
// whenever a replica becomes ready, exits, or the desired state changes, it walks the update to
// its end one step at a time.

export interface Template {
  model: string;
  version: string;
  /** The environment's own settings for its replicas (over services.env): a change rolls them. */
  env?: Record<string, string>;
}

export type Phase = 'starting' | 'ready' | 'stopping';

export interface ReplicaState {
  id: string;
  template: Template;
  phase: Phase;
}

export interface PlanInput {
  template: Template;
  replicas: number;
  current: readonly ReplicaState[];
  maxSurge: number;
  maxUnavailable: number;
  /** False while new replicas may not be started (the template failed, a crash back-off). */
  canStart: boolean;
}

export type Action = { kind: 'start'; template: Template } | { kind: 'stop'; id: string; reason: 'replaced' | 'scaled_down' };

const envKey = (env: Record<string, string> | undefined) => JSON.stringify(Object.entries(env ?? {}).sort(([a], [b]) => a.localeCompare(b)));
export const sameTemplate = (a: Template, b: Template) => a.model === b.model && a.version === b.version && envKey(a.env) === envKey(b.env);

/** Not-ready replicas go first: stopping them costs no capacity. */
const startingFirst = (a: ReplicaState, b: ReplicaState) => Number(a.phase === 'ready') - Number(b.phase === 'ready');

export function plan(input: PlanInput): Action[] {
  const { template, replicas: desired, maxSurge, maxUnavailable } = input;
  const live = input.current.filter((r) => r.phase !== 'stopping');
  const same = live.filter((r) => sameTemplate(r.template, template));
  const old = live.filter((r) => !sameTemplate(r.template, template));
  const actions: Action[] = [];

  if (input.canStart) {
    const room = desired + maxSurge - live.length;
    for (let i = 0; i < Math.min(desired - same.length, room); i++) actions.push({ kind: 'start', template });
  }

  // How many ready replicas may go now without dropping below desired − max_unavailable.
  let budget = live.filter((r) => r.phase === 'ready').length - Math.max(0, desired - maxUnavailable);
  const stop = (r: ReplicaState, reason: 'replaced' | 'scaled_down') => {
    if (r.phase === 'ready') {
      if (budget <= 0) return;
      budget--;
    }
    actions.push({ kind: 'stop', id: r.id, reason });
  };
  // Old replicas go only as the template's stand ready in their place (or as the count falls).
  for (const r of [...old].sort(startingFirst)) stop(r, desired === 0 ? 'scaled_down' : 'replaced');
  for (const r of [...same].sort(startingFirst).slice(0, Math.max(0, same.length - desired))) stop(r, 'scaled_down');
  return actions;
}
