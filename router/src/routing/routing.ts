// The routing policy bound to live state: the weights snapshot in force, replica availability and
// the environments guards have vetoed. One instance per router; the data path, the retry and the
// admin API share it.
import type { WeightsSnapshot } from '../weights/snapshot.ts';
import { decide, fallback, liveShares, type Decision, type RoutingState } from './policy.ts';
import type { RequestFacts } from './request-facts.ts';

export class Routing {
  private readonly vetoes = new Set<string>();

  constructor(
    private readonly snapshot: () => WeightsSnapshot,
    private readonly available: (environment: string) => boolean,
    private readonly random: () => number = Math.random,
  ) {}

  get state(): RoutingState {
    return { environments: this.snapshot().environments, available: this.available, vetoed: this.vetoes };
  }

  decide(facts: RequestFacts): Decision {
    return decide(this.state, facts, this.random);
  }

  fallback(failed: string) {
    return fallback(this.state, failed, this.random);
  }

  liveShares(): Map<string, number> {
    return liveShares(this.state);
  }

  /** Takes an environment out of rotation whatever its weight (a guard's decision). */
  veto(environment: string): void {
    this.vetoes.add(environment);
  }

  lift(environment: string): void {
    this.vetoes.delete(environment);
  }

  get vetoed(): ReadonlySet<string> {
    return this.vetoes;
  }
}
