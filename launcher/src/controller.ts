// The deployment controller: makes the replicas that run match the deployment file, live, as a
// Kubernetes Deployment controller does. Each environment is reconciled on its own by the planner
// (planner.ts): rolling updates, scaling, environments added and removed. A new version whose
// replicas fail to start or answer stops its update and leaves the old replicas serving, with the
// reason in the log and the status; a replica that crashes is replaced (with back-off). After
// every change the controller reports its status to the router's admin API.
import path from 'node:path';
import type { Logger } from 'pino';
import type { DeploymentStatus, EnvironmentStatus, ScalingDecision } from '../../shared/api/deployments.ts';
import type { WatchedFile } from '../../shared/config-file/watched-file.ts';
import { DEFAULT_TARGET_CPU_PERCENT, UPDATE_DEFAULTS, type Deployment } from './deployment.ts';
import { plan, sameTemplate, type Template } from './planner.ts';
import type { ChildOptions } from './child.ts';
import { ReplicaProcess } from './replica.ts';
import type { RouterApi } from './router-client.ts';

export interface ControllerOptions {
  source: WatchedFile<Deployment>;
  router: RouterApi;
  log: Logger;
  /** The process of a new replica of `template` in `environment` (resolved when it starts). */
  replicaProcess: (environment: string, template: Template, id: string) => () => Promise<ChildOptions>;
  /** Checks the bundle `template` names (its manifest and signature) before any replica of it starts; throws why not. */
  checkBundle?: (template: Template) => void;
  /** Called after every change of status (debounced). */
  onStatus?: (status: DeploymentStatus) => void;
}

interface Failure {
  template: Template;
  reason: string;
  at: string;
}

interface EnvironmentState {
  replicas: ReplicaProcess[];
  /** The last template whose update completed: what replaces crashed replicas while a new one fails. */
  lastGood?: Template;
  failure?: Failure;
  update: { state: 'completed' | 'progressing' | 'failed'; message: string; since: string };
  crashes: number;
  backoffUntil: number;
  retry?: NodeJS.Timeout;
}

const CRASH_BACKOFF = { baseMs: 1000, maxMs: 30_000 };
const STATUS_DEBOUNCE_MS = 50;
const DECISIONS_KEPT = 20;

export class Controller {
  private readonly environments = new Map<string, EnvironmentState>();
  private next = 0;
  private stopped = false;
  private statusTimer: NodeJS.Timeout | null = null;
  /** Replica count per environment set by the autoscaler; the file's count otherwise. */
  private readonly scaled = new Map<string, number>();
  /** Per environment: the autoscaler's last decision and its recent decisions that changed the count. */
  private readonly decisions = new Map<string, { last: ScalingDecision; history: ScalingDecision[] }>();

  constructor(private readonly o: ControllerOptions) {}

  get deployment(): Deployment {
    return this.o.source.value;
  }

  start(): void {
    this.o.source.onChange(() => this.reconcile());
    this.o.source.onReload(() => this.reportSoon());
    this.reconcile();
  }

  /** The replica count the controller holds an environment at now. */
  desiredReplicas(environment: string): number {
    const spec = this.deployment.environments[environment];
    if (!spec) return 0;
    if (!spec.autoscale) return spec.replicas;
    return Math.min(spec.autoscale.max, Math.max(spec.autoscale.min, this.scaled.get(environment) ?? spec.replicas));
  }

  /** The autoscaler's decision: hold the environment at this many replicas (within its bounds). */
  scale(environment: string, replicas: number): void {
    this.scaled.set(environment, replicas);
    this.reconcile();
  }

  /** Environments with replicas of this model version, ready or not. */
  environmentsRunning(template: Template): string[] {
    return [...this.environments].filter(([, s]) => s.replicas.some((r) => r.phase !== 'stopping' && sameTemplate(r.template, template))).map(([name]) => name);
  }

  /** Keeps an autoscaling decision for the status (the last one, and those that changed the count). */
  recordDecision(environment: string, decision: ScalingDecision): void {
    const kept = this.decisions.get(environment) ?? { last: decision, history: [] };
    kept.last = decision;
    if (decision.action !== 'hold') kept.history = [...kept.history, decision].slice(-DECISIONS_KEPT);
    this.decisions.set(environment, kept);
    this.reportSoon();
  }

  replicasOf(environment: string): readonly ReplicaProcess[] {
    return this.environments.get(environment)?.replicas ?? [];
  }

  /** A restarted router has forgotten its replicas: register every ready one again. */
  async reregisterAll(): Promise<void> {
    await Promise.all([...this.environments.values()].flatMap((e) => e.replicas.map((r) => r.reregister().catch(() => {}))));
    this.reportSoon();
  }

  reconcile(): void {
    if (this.stopped) return;
    const names = new Set([...Object.keys(this.deployment.environments), ...this.environments.keys()]);
    for (const name of names) this.reconcileEnvironment(name);
    this.reportSoon();
  }

  private state(name: string): EnvironmentState {
    let state = this.environments.get(name);
    if (!state) this.environments.set(name, (state = { replicas: [], update: { state: 'progressing', message: 'starting', since: new Date().toISOString() }, crashes: 0, backoffUntil: 0 }));
    return state;
  }

  private reconcileEnvironment(name: string): void {
    const spec = this.deployment.environments[name];
    const state = this.state(name);
    const wanted: Template | undefined = spec && { model: spec.model, version: spec.version, env: spec.env };
    // A new desired template gets a fresh start; a failed one holds until the file changes.
    if (state.failure && (!wanted || !sameTemplate(state.failure.template, wanted))) state.failure = undefined;
    const failed = wanted !== undefined && state.failure !== undefined;
    // A removed environment is planned down to 0 replicas of whatever it runs.
    const template = failed ? state.lastGood : (wanted ?? state.replicas[0]?.template);
    const replicas = spec ? this.desiredReplicas(name) : 0;
    const update = { ...UPDATE_DEFAULTS, ...this.deployment.update };
    const now = Date.now();
    const actions = template
      ? plan({
          template,
          replicas,
          current: state.replicas.map((r) => ({ id: r.id, template: r.template, phase: r.phase })),
          maxSurge: update.max_surge,
          maxUnavailable: update.max_unavailable,
          canStart: now >= state.backoffUntil,
        })
      : [];
    for (const action of actions) {
      if (action.kind === 'start') void this.startReplica(name, action.template, update.ready_timeout_seconds * 1000);
      else {
        const replica = state.replicas.find((r) => r.id === action.id);
        if (replica) void this.stopReplica(name, replica, action.reason);
      }
    }
    if (now < state.backoffUntil && !state.retry) {
      state.retry = setTimeout(() => {
        state.retry = undefined;
        this.reconcile();
      }, state.backoffUntil - now);
    }
    this.trackUpdate(name, state, wanted, replicas, failed);
    if (!spec && state.replicas.length === 0) {
      if (state.retry) clearTimeout(state.retry);
      this.environments.delete(name);
      this.o.log.info({ environment: name }, 'environment removed');
    }
  }

  private trackUpdate(name: string, state: EnvironmentState, wanted: Template | undefined, replicas: number, failed: boolean): void {
    const set = (s: EnvironmentState['update']['state'], message: string) => {
      if (state.update.state !== s || state.update.message !== message) state.update = { state: s, message, since: new Date().toISOString() };
    };
    if (!wanted) return set('progressing', 'removing the environment');
    if (failed && state.failure) return set('failed', `${wanted.model} ${wanted.version}: ${state.failure.reason}; the previous replicas keep serving`);
    const ready = state.replicas.filter((r) => r.phase === 'ready' && sameTemplate(r.template, wanted)).length;
    const complete = ready === replicas && state.replicas.length === replicas;
    if (complete) {
      if (state.update.state !== 'completed') this.o.log.info({ environment: name, model: wanted.model, model_version: wanted.version, replicas }, 'environment up to date');
      state.lastGood = wanted;
      state.crashes = 0;
      return set('completed', `${replicas} of ${replicas} replicas of ${wanted.model} ${wanted.version} ready`);
    }
    set('progressing', `${ready} of ${replicas} replicas of ${wanted.model} ${wanted.version} ready`);
  }

  private async startReplica(environment: string, template: Template, readyTimeoutMs: number): Promise<void> {
    const state = this.state(environment);
    try {
      this.o.checkBundle?.(template);
    } catch (err) {
      // Refused before deploying: no replica starts, the previous ones keep serving.
      const reason = `bundle refused before deploying: ${(err as Error).message}`;
      state.failure = { template, reason, at: new Date().toISOString() };
      this.o.log.error({ environment, model: template.model, model_version: template.version, reason }, 'bundle refused: the update stops and the previous replicas keep serving');
      // Not from inside the reconcile that asked for this replica: after it.
      queueMicrotask(() => this.reconcile());
      return;
    }
    const id = `${environment}-${++this.next}`;
    const replica = new ReplicaProcess({ id, environment, template, child: this.o.replicaProcess(environment, template, id), readyTimeoutMs, router: this.o.router, log: this.o.log });
    state.replicas.push(replica);
    this.o.log.info({ environment, replica: id, model: template.model, model_version: template.version }, 'starting a replica');
    try {
      await replica.start((r) => this.crashed(environment, r));
    } catch (err) {
      if (this.stopped || replica.phase === 'stopping') return;
      state.replicas = state.replicas.filter((r) => r !== replica);
      const reason = (err as Error).message;
      state.failure = { template, reason, at: new Date().toISOString() };
      this.o.log.error({ environment, replica: id, model: template.model, model_version: template.version, reason }, 'replica failed to start: the update stops and the previous replicas keep serving');
    }
    this.reconcile();
  }

  private async stopReplica(environment: string, replica: ReplicaProcess, reason: string): Promise<void> {
    this.o.log.info({ environment, replica: replica.id, url: replica.url, model_version: replica.template.version, reason }, 'stopping a replica');
    await replica.stop();
    const state = this.environments.get(environment);
    if (state) state.replicas = state.replicas.filter((r) => r !== replica);
    this.reconcile();
  }

  private crashed(environment: string, replica: ReplicaProcess): void {
    const state = this.environments.get(environment);
    if (!state || this.stopped) return;
    state.replicas = state.replicas.filter((r) => r !== replica);
    if (replica.phase !== 'ready') return; // a start that fails is handled where it was started
    const delay = Math.min(CRASH_BACKOFF.maxMs, CRASH_BACKOFF.baseMs * 2 ** state.crashes++);
    state.backoffUntil = Date.now() + delay;
    this.o.log.error({ environment, replica: replica.id, url: replica.url, replace_in_ms: delay }, 'replica exited; it will be replaced');
    if (replica.url) void this.o.router.deregister(environment, replica.url).catch(() => {});
    this.reconcile();
  }

  status(): DeploymentStatus {
    const environments: EnvironmentStatus[] = [];
    for (const [name, state] of this.environments) {
      const spec = this.deployment.environments[name];
      const wanted = spec ? { model: spec.model, version: spec.version, env: spec.env } : undefined;
      environments.push({
        name,
        model: spec?.model ?? state.replicas[0]?.template.model ?? '',
        version: spec?.version ?? '',
        desired_replicas: spec ? this.desiredReplicas(name) : 0,
        ready_replicas: state.replicas.filter((r) => r.phase === 'ready').length,
        updated_replicas: wanted ? state.replicas.filter((r) => sameTemplate(r.template, wanted) && r.phase !== 'stopping').length : 0,
        versions: [...new Set(state.replicas.map((r) => r.template.version))],
        replicas: state.replicas.map((r) => ({ id: r.id, version: r.template.version, phase: r.phase, url: r.url ?? null, pid: r.pid ?? null, started_at: r.startedAt })),
        update: state.update,
        last_error: state.failure ? { version: state.failure.template.version, reason: state.failure.reason, at: state.failure.at } : null,
        autoscale: spec?.autoscale
          ? { min: spec.autoscale.min, max: spec.autoscale.max, target_cpu_percent: spec.autoscale.target_cpu_percent ?? DEFAULT_TARGET_CPU_PERCENT, last_decision: this.decisions.get(name)?.last ?? null, decisions: this.decisions.get(name)?.history ?? [] } : null,
      });
    }
    return {
      file: path.resolve(this.o.source.file),
      reported_at: new Date().toISOString(),
      last_reload: { ok: this.o.source.lastFailure === null, failure: this.o.source.lastFailure },
      environments,
    };
  }

  reportSoon(): void {
    if (this.statusTimer || !this.o.onStatus) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.o.onStatus?.(this.status());
    }, STATUS_DEBOUNCE_MS);
  }

  /** Stops every replica (each deregistered, then drained). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    for (const state of this.environments.values()) if (state.retry) clearTimeout(state.retry);
    await Promise.all([...this.environments.values()].flatMap((s) => s.replicas.map((r) => r.stop())));
  }
}
