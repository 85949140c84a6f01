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
  const sticky = facts.userKey !== undefined;
  const pick = (pool: EnvironmentChoice[]) => (sticky ? pickSticky(pool, facts.userKey!) : pickWeighted(pool, random()));
  const reason: RouteReason = sticky ? 'sticky' : 'weighted';
  const first = sticky ? byName(state, pick(choices(state).filter((c) => !c.backup && c.weight > 0))?.name) : firstWeighted(state, random());
  if (first && state.available(first.name)) return { environment: first, reason, onBackup: false };
  const { pool, onBackup } = eligible(choices(state));
  const chosen = byName(state, pick(pool)?.name);
  if (!chosen) return { environment: undefined, reason: 'no_healthy_environment' };
  return { environment: chosen, reason, failedOverFrom: first?.name, onBackup };
}

/**
 * pickWeighted among the weighted environments (not backups, weight above 0, not vetoed), up or
 * not, read straight from the state: every request makes this pick, and building the choices for
 * it cost more than the pick itself.
 */
function firstWeighted(state: RoutingState, r: number): EnvironmentSnapshot | undefined {
  const counts = (e: EnvironmentSnapshot) => !e.backup && e.weight > 0 && !state.vetoed.has(e.name);
  const environments = state.environments;
  let total = 0;
  for (let i = 0; i < environments.length; i++) if (counts(environments[i])) total += environments[i].weight;
  let x = r * total;
  let last: EnvironmentSnapshot | undefined;
  for (let i = 0; i < environments.length; i++) {
    const e = environments[i];
    if (!counts(e)) continue;
    if (x < e.weight) return e;
    x -= e.weight;
    last = e;
  }
  return last;
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
