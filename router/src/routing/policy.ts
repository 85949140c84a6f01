// The routing policy, in one place and free of HTTP: from the weights in force, which environments
// can take traffic, and what a request says about itself, decide the environment it goes to. The
// data path, the cross-environment retry and the admin API's live shares all ask this module.
//
// Seams for what builds on it: a guard vetoes an environment (`vetoed`: it leaves rotation as if
// its weight were 0, and its share goes to the others); a rollout step changes weights through the
// weights store, which hands a new snapshot here; a shadow target is chosen beside the decision
// by the caller, from the same state.
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';
import type { RequestFacts } from './request-facts.ts';
import { eligible, pickSticky, pickWeighted, type EnvironmentChoice } from './weighted.ts';

export interface RoutingState {
  environments: readonly EnvironmentSnapshot[];
  /** At least one replica of the environment can take traffic now. */
  available: (environment: string) => boolean;
  /** Environments a guard has taken out of rotation. */
  vetoed: ReadonlySet<string>;
}

export type RouteReason = 'forced' | 'sticky' | 'weighted';

export interface Routed {
  environment: EnvironmentSnapshot;
  reason: RouteReason;
  /** The first pick could not take traffic: this request went elsewhere in its place. */
  failedOverFrom?: string;
  /** Serving from a backup environment because every weighted one is down. */
  onBackup: boolean;
}

export interface Unrouted {
  environment: undefined;
  reason: 'unknown_environment' | 'no_healthy_environment';
}

export type Decision = Routed | Unrouted;

/** The environments as the selection primitives see them; a vetoed one weighs 0. */
export function choices(state: RoutingState, except?: string): EnvironmentChoice[] {
  return state.environments
    .filter((e) => e.name !== except)
    .map((e) => ({ name: e.name, weight: state.vetoed.has(e.name) ? 0 : e.weight, backup: e.backup, available: state.available(e.name) }));
}

const byName = (state: RoutingState, name: string | undefined) => (name === undefined ? undefined : state.environments.find((e) => e.name === name));

/**
 * Where a request goes. A forced environment is taken as named (healthy or not: the caller asked
 * for it). Otherwise the pick is made among every weighted environment, sticky when the request
 * has a user key, so a user's slice does not move when another environment goes down; if the pick
 * cannot take traffic, the request goes to the environments that can, in proportion to their
 * weights (or to the backups when none can).
 */
export function decide(state: RoutingState, facts: RequestFacts, random: () => number = Math.random): Decision {
  if (facts.forced !== undefined) {
    const forced = byName(state, facts.forced);
    return forced ? { environment: forced, reason: 'forced', onBackup: false } : { environment: undefined, reason: 'unknown_environment' };
  }
  const all = choices(state);
  const pick = (pool: EnvironmentChoice[]) => (facts.userKey !== undefined ? pickSticky(pool, facts.userKey) : pickWeighted(pool, random()));
  const reason: RouteReason = facts.userKey !== undefined ? 'sticky' : 'weighted';
  const first = pick(all.filter((c) => !c.backup && c.weight > 0));
  const firstEnvironment = first?.available ? byName(state, first.name) : undefined;
  if (firstEnvironment) return { environment: firstEnvironment, reason, onBackup: false };
  const { pool, onBackup } = eligible(all);
  const chosen = byName(state, pick(pool)?.name);
  if (!chosen) return { environment: undefined, reason: 'no_healthy_environment' };
  return { environment: chosen, reason, failedOverFrom: first?.name, onBackup };
}

/** Where a request goes when its environment failed: another that can take traffic, by weight. */
export function fallback(state: RoutingState, failed: string, random: () => number = Math.random): EnvironmentSnapshot | undefined {
  return byName(state, pickWeighted(eligible(choices(state, failed)).pool, random())?.name);
}

/** The fraction of traffic each environment gets now (0 for those out of rotation). */
export function liveShares(state: RoutingState): Map<string, number> {
  const pool = eligible(choices(state)).pool;
  const total = pool.reduce((sum, e) => sum + e.weight, 0);
  return new Map(state.environments.map((e) => [e.name, total ? (pool.find((p) => p.name === e.name)?.weight ?? 0) / total : 0]));
}
