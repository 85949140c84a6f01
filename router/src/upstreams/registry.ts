// Replicas per environment: static ones from the weights file, dynamic ones registered through the
// admin API (the local launcher and, later, discovery). Pools are owned here and closed here.
import type { Logger } from 'pino';
import type { EnvironmentChoice } from '../select/environment.ts';
import type { EnvironmentSnapshot, WeightsSnapshot } from '../weights/snapshot.ts';
import { Replica, type PoolOptions, type ReplicaSource } from './replica.ts';

/** Carries its HTTP status, so the shared error handler answers { error, message } with it. */
export class RegistryError extends Error {
  constructor(readonly statusCode: 404 | 409, message: string) {
    super(message);
  }
}

export const normalizeUrl = (url: string) => url.replace(/\/+$/, '');

export class UpstreamRegistry {
  private readonly byEnv = new Map<string, Replica[]>();
  private environments = new Set<string>();
  private readonly addedListeners: ((r: Replica) => void)[] = [];

  constructor(
    private readonly poolOptions: PoolOptions,
    private readonly log: Logger,
  ) {}

  onAdded(listener: (r: Replica) => void): void {
    this.addedListeners.push(listener);
  }

  replicas(environment: string): readonly Replica[] {
    return this.byEnv.get(environment) ?? [];
  }

  /** Replicas of the environment that can take traffic now. */
  availableCount(environment: string): number {
    let n = 0;
    for (const r of this.replicas(environment)) if (r.available) n++;
    return n;
  }

  /** The environments as the selection functions see them: weight, backup, and whether any replica is up. */
  choices(environments: readonly EnvironmentSnapshot[]): EnvironmentChoice[] {
    return environments.map((e) => ({ name: e.name, weight: e.weight, backup: e.backup, available: this.availableCount(e.name) > 0 }));
  }

  all(): Replica[] {
    return [...this.byEnv.values()].flat();
  }

  /** Makes static replicas match the snapshot; drops every replica of a removed environment. */
  sync(snapshot: WeightsSnapshot): void {
    this.environments = new Set(snapshot.environments.map((e) => e.name));
    for (const [env, list] of this.byEnv) {
      if (!this.environments.has(env)) {
        this.byEnv.delete(env);
        for (const r of list) void r.close();
      }
    }
    for (const env of snapshot.environments) {
      const wanted = new Set(env.upstreams.map(normalizeUrl));
      const list = this.byEnv.get(env.name) ?? [];
      const kept = list.filter((r) => r.source !== 'file' || wanted.has(r.url));
      for (const r of list) if (!kept.includes(r)) void r.close();
      for (const url of wanted) if (!kept.some((r) => r.url === url)) kept.push(this.create(env.name, url, 'file'));
      this.byEnv.set(env.name, kept);
    }
  }

  register(environment: string, url: string): Replica {
    if (!this.environments.has(environment)) throw new RegistryError(404, `unknown environment "${environment}"`);
    const list = this.byEnv.get(environment) ?? [];
    const clean = normalizeUrl(url);
    if (list.some((r) => r.url === clean)) throw new RegistryError(409, `${clean} is already registered in ${environment}`);
    const replica = this.create(environment, clean, 'admin');
    this.byEnv.set(environment, [...list, replica]);
    this.log.info({ environment, url: clean }, 'replica registered');
    return replica;
  }

  async deregister(environment: string, url: string): Promise<void> {
    const list = this.byEnv.get(environment) ?? [];
    const clean = normalizeUrl(url);
    const replica = list.find((r) => r.url === clean);
    if (!replica) throw new RegistryError(404, `${clean} is not registered in ${environment}`);
    this.byEnv.set(environment, list.filter((r) => r !== replica));
    this.log.info({ environment, url: clean }, 'replica deregistered');
    // In-flight requests on its pool finish before the pool closes.
    await replica.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((r) => r.close()));
    this.byEnv.clear();
  }

  private create(environment: string, url: string, source: ReplicaSource): Replica {
    const replica = new Replica(environment, url, source, this.poolOptions);
    for (const l of this.addedListeners) l(replica);
    return replica;
  }
}
