// One release, step by step, against the running deployment through the router's admin API:
// validate → offline gates → staging → deploy to the release environment at weight 0 → shadow →
// rollout with analysis → promote, or roll back. Every step is recorded in the registry's release
// record (the shared state) as it starts and ends, so a release killed at any point and started
// again goes on from its last finished step; each step checks the deployment before acting, so
// none is applied twice.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { routerClient } from '../../../clients/router.ts';
import { MANIFEST_FILE, verifyBundle } from '../../../shared/bundle/manifest.ts';
import type { HistoryEntry } from '../../../router/src/history/schema.ts';
import type { ModelsView, ReleaseClaimView, ReleaseRecord, ReleaseStep, ReleaseState } from '../../../router/src/registry/schema.ts';
import type { Static } from '@sinclair/typebox';
import type { RolloutsView as RolloutsSchema, RolloutView } from '../../../router/src/rollouts/schema.ts';

type RolloutsView = Static<typeof RolloutsSchema>;
import type { ExperimentReport } from '../../../router/src/experiments/schema.ts';
import { deploymentStatus, deployVersion, isDeployed } from '../deploy-flow.ts';
import type { Running } from '../running.ts';
import { offlineGates, type OfflineResult } from './gates.ts';
import type { ReleaseSettings } from './settings.ts';

const POLL_MS = 1000;

export interface ReleaseOptions {
  running: Running;
  settings: ReleaseSettings;
  /** The bundle folder: <models_dir>/<model>/<version>. */
  bundle: string;
  modelsDir: string;
  dataDir: string;
  root: string;
  publicKey?: KeyObject;
  say: (line: string) => void;
}

export interface ReleaseOutcome {
  state: ReleaseState;
  record: ReleaseRecord | null;
  /** Why it was refused before a release could be recorded (a bundle that fails validation). */
  refusal?: string;
  decisions: HistoryEntry[];
}

type StepName = ReleaseStep['name'];
interface StepResult {
  passed: boolean;
  summary: string;
  details?: unknown;
}

/** A failed admin call, with what the router answered. */
export class AdminCallError extends Error {
  constructor(
    what: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${what} answered ${status}: ${(body as { message?: string } | undefined)?.message ?? JSON.stringify(body)}`);
  }
}

async function ok<T>(what: string, call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const res = await call;
  if (!res.response.ok) throw new AdminCallError(what, res.response.status, res.error);
  return res.data as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

/** sha256 of the manifest's bytes: the release's identity of the bundle. */
export const manifestDigest = (dir: string) => crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, MANIFEST_FILE))).digest('hex');

export const releaseHolder = () => `${os.hostname()} pid ${process.pid}`;

export class ReleaseRunner {
  private readonly router;
  private record!: ReleaseRecord;
  private readonly model: string;
  private readonly version: string;
  private readonly deadline: number;

  constructor(private readonly o: ReleaseOptions) {
    this.router = routerClient(o.running.routerUrl, { adminToken: o.running.token });
    const metadata = JSON.parse(fs.readFileSync(path.join(o.bundle, 'metadata.json'), 'utf8')) as { name?: string; version?: string };
    this.model = metadata.name ?? path.basename(path.dirname(o.bundle));
    this.version = metadata.version ?? path.basename(o.bundle);
    this.deadline = Date.now() + o.settings.timeout_seconds * 1000;
  }

  /** The environment the candidate goes to (the record's, once claimed). */
  private get env(): string {
    return this.record.environment;
  }

  private get facts(): Record<string, unknown> {
    return this.record.facts;
  }

  async run(): Promise<ReleaseOutcome> {
    const { o } = this;
    const expected = path.join(o.modelsDir, this.model, this.version);
    if (path.resolve(o.bundle) !== path.resolve(expected)) {
      return this.refuseUnrecorded(`the bundle says it is ${this.model} ${this.version}: the controller deploys it from ${path.relative(process.cwd(), expected)}, not ${path.relative(process.cwd(), o.bundle)} (copy it there)`);
    }
    // Before anything is loaded or recorded: a changed file refuses the bundle, named.
    let integrity;
    try {
      integrity = verifyBundle(o.bundle, { requireManifest: true, ...(o.publicKey ? { publicKey: o.publicKey } : {}) });
    } catch (err) {
      if (!fs.existsSync(path.join(o.bundle, MANIFEST_FILE))) return this.refuseUnrecorded((err as Error).message);
      return this.refuseRecorded((err as Error).message);
    }
    const refusal = await this.claim();
    if (refusal) return this.refuseUnrecorded(refusal);
    await this.step('validate', async () => ({ passed: true, summary: `${integrity.files} files match manifest.json${integrity.signed ? ', signature verified' : o.publicKey ? '' : ' (no signing key configured)'}`, details: integrity }));

    const settled = await this.step('production', async () => this.settleProduction());
    if (!settled.passed) return this.end('refused', settled.summary);
    const gates = await this.step('offline_gates', async () => this.offlineGates());
    if (!gates.passed) return this.end('refused', `stopped at the offline gates: ${gates.summary}`);

    const staged = await this.step('staging', async () => {
      await this.untilListed();
      await this.setStage(this.version, 'staging', 'passed the offline gates');
      return { passed: true, summary: `${this.model} ${this.version} is staging` };
    });
    if (!staged.passed) return this.end('refused', `staging failed: ${staged.summary}`);
    const live: [StepName, () => Promise<StepResult>][] = [
      ['deploy', () => this.deploy()],
      ['shadow', () => this.shadow()],
      ['rollout', () => this.rollout()],
    ];
    for (const [name, run] of live) {
      const result = await this.step(name, run).catch((err: unknown): StepResult => ({ passed: false, summary: (err as Error).message }));
      if (!result.passed) return this.rollBack(`${name} failed: ${result.summary}`);
    }
    const promoted = await this.step('promote', async () => {
      const changed = await this.setStage(this.version, 'production', `release ${this.record.id}: rollout ${String(this.facts.rollout_id)} completed`);
      const archived = changed.filter((c) => c.stage === 'archived').map((c) => c.version);
      return { passed: true, summary: `${this.model} ${this.version} is production${archived.length ? `; ${archived.join(', ')} archived (kept as the backup)` : ''}`, details: { changed } };
    });
    // The traffic is the candidate's already: a promotion that could not be recorded is retried by running the release again.
    if (!promoted.passed) return this.finish();
    return this.end('promoted', `${this.model} ${this.version} promoted to production`);
  }

  // ---- the steps ------------------------------------------------------------------------------

  /** Which version is in production and which environment serves it (adopting it where none is recorded). */
  private async settleProduction(): Promise<StepResult> {
    const [models, config] = await Promise.all([this.models(), ok('GET /admin/config', this.router.GET('/admin/config'))]);
    const heaviest = (serves: (versions: string[]) => boolean) =>
      config.environments
        .filter((e) => e.name !== this.env && e.weight > 0 && (!this.o.settings.baseline || e.name === this.o.settings.baseline) && serves(e.model_versions))
        .sort((a, b) => b.share - a.share)[0];
    let production = models.models.find((m) => m.name === this.model && m.stage === 'production')?.version ?? null;
    const baseline = production ? heaviest((v) => v.includes(production!)) : heaviest((v) => v.length === 1);
    if (!baseline) throw new Error(production ? `production's ${this.model} ${production} is served by no environment with weight (other than ${this.env})` : `no environment with weight serves one version to compare with (set baseline in the release settings)`);
    if (!production) {
      production = baseline.model_versions[0];
      await this.setStage(production, 'production', `serves ${baseline.name} (${pct(baseline.share)} of traffic): recorded as production by the first release`);
      this.o.say(`${this.model} ${production} serves ${baseline.name}: recorded as production`);
    }
    if (production === this.version) return { passed: false, summary: `${this.model} ${this.version} is already production` };
    await this.saveFacts({ production_version: production, baseline_environment: baseline.name });
    return { passed: true, summary: `production is ${this.model} ${production}, served by ${baseline.name}` };
  }

  private async offlineGates(): Promise<StepResult> {
    const production = String(this.facts.production_version);
    const result: OfflineResult = await offlineGates(this.o.bundle, path.join(this.o.modelsDir, this.model, production), this.o.settings.offline, this.o.dataDir, this.o.root, (line) => this.o.say(`  ${line}`));
    for (const g of result.gates) this.o.say(`  ${g.passed ? 'pass' : 'FAIL'}  ${g.detail}`);
    const failed = result.gates.filter((g) => !g.passed);
    return { passed: result.passed, summary: failed.length ? failed.map((g) => g.detail).join('; ') : `${result.gates.length} gates passed against ${production}`, details: result };
  }

  private async deploy(): Promise<StepResult> {
    const { settings, running } = this.o;
    // Out of rotation first: the candidate meets no client before its rollout.
    const config = await ok('GET /admin/config', this.router.GET('/admin/config'));
    const replicas = settings.replicas ?? Math.max(1, config.environments.find((e) => e.name === this.facts.baseline_environment)?.replicas ?? 1);
    if ((config.environments.find((e) => e.name === this.env)?.weight ?? 0) > 0) {
      await ok('PUT /admin/weights', this.router.PUT('/admin/weights', { body: { weights: { [this.env]: 0 } } }));
      this.o.say(`${this.env}: weight 0 (out of rotation until the rollout)`);
    }
    const status = await deploymentStatus(running);
    if (isDeployed(status?.environments.find((e) => e.name === this.env), this.version, replicas)) return { passed: true, summary: `${this.env} already serves ${this.version}` };
    await deployVersion({ running, environment: this.env, model: this.model, version: this.version, replicas, timeoutMs: settings.deploy_timeout_seconds * 1000, say: (line) => this.o.say(`  ${line}`) });
    return { passed: true, summary: `${this.env} serves ${this.model} ${this.version} on ${replicas} replica${replicas === 1 ? '' : 's'}, at weight 0` };
  }

  private shadowOf(report: ExperimentReport) {
    return report.shadows.find((s) => s.environment === this.env && s.model_version === this.version);
  }

  private async shadow(): Promise<StepResult> {
    const s = this.o.settings.shadow;
    if (s.percent <= 0) return { passed: true, summary: 'no shadow (shadow.percent is 0)' };
    const report = () => ok('GET /admin/experiments/report', this.router.GET('/admin/experiments/report', { params: { query: {} } }));
    // The report's tallies (of this environment and version) add up over its life: this step counts from here.
    const start = this.shadowOf(await report());
    const from = { compared: start?.compared ?? 0, failed: start?.failed ?? 0, dropped: start?.dropped ?? 0 };
    await ok('PUT /admin/weights', this.router.PUT('/admin/weights', { body: { weights: { [this.env]: 0 }, shadow: { [this.env]: s.percent } } }));
    this.o.say(`  ${s.percent}% of production's requests mirrored to ${this.env}: until ${s.requests} are compared, or ${s.max_seconds} s`);
    const until = Math.min(Date.now() + s.max_seconds * 1000, this.deadline);
    let last = 0;
    let seen = this.shadowOf(await report());
    try {
      while (Date.now() < until && (seen?.compared ?? 0) - from.compared < s.requests) {
        await sleep(POLL_MS);
        seen = this.shadowOf(await report());
        if (Date.now() - last >= 5000) {
          last = Date.now();
          this.o.say(`  shadow: ${(seen?.compared ?? 0) - from.compared} compared, label agreement ${pct(seen?.label_agreement)}`);
        }
      }
    } finally {
      await ok('PUT /admin/weights', this.router.PUT('/admin/weights', { body: { weights: { [this.env]: 0 }, shadow: { [this.env]: 0 } } }));
    }
    const compared = (seen?.compared ?? 0) - from.compared;
    const failed = (seen?.failed ?? 0) - from.failed;
    const agreement = seen?.label_agreement ?? null;
    const details = { compared, failed, dropped: (seen?.dropped ?? 0) - from.dropped, label_agreement: agreement, mean_confidence_delta: seen?.mean_confidence_delta ?? null, mean_latency_delta_ms: seen?.mean_latency_delta_ms ?? null };
    if (failed > 0 && failed / (compared + failed) > s.max_failed_share) return { passed: false, summary: `the candidate failed ${failed} of ${compared + failed} mirrored requests (more than ${pct(s.max_failed_share)})`, details };
    if (compared === 0) return { passed: true, summary: `no request was mirrored in ${s.max_seconds} s (no traffic?): nothing compared`, details };
    if (s.min_agreement > 0 && (agreement ?? 0) < s.min_agreement) return { passed: false, summary: `label agreement with production ${pct(agreement)} < ${pct(s.min_agreement)} over ${compared} mirrored requests`, details };
    return { passed: true, summary: `${compared} mirrored requests: label agreement with production ${pct(agreement)}, confidence ${seen?.mean_confidence_delta ?? '-'} and latency ${seen?.mean_latency_delta_ms ?? '-'} ms against it`, details };
  }

  private async rollouts(): Promise<RolloutsView> {
    return ok('GET /admin/rollouts', this.router.GET('/admin/rollouts')) as Promise<RolloutsView>;
  }

  private async rollout(): Promise<StepResult> {
    const { settings } = this.o;
    let id = (this.facts.rollout_id as string | undefined) ?? (await this.startedUnrecorded());
    if (id && !this.facts.rollout_id) {
      await this.saveFacts({ rollout_id: id });
      this.o.say(`  rollout ${id} was started by the run that stopped before recording it`);
    }
    if (!id) {
      const started = (await ok(
        'POST /admin/rollouts',
        this.router.POST('/admin/rollouts', { body: { target: this.env, baseline: String(this.facts.baseline_environment), steps: settings.rollout.steps, pause_seconds: settings.rollout.pause_seconds, ...(settings.rollout.analysis ? { analysis: settings.rollout.analysis } : {}) } }),
      )) as RolloutView;
      id = started.id;
      await this.saveFacts({ rollout_id: id });
      this.o.say(`  rollout ${id}: ${this.facts.baseline_environment} → ${this.env} in steps ${settings.rollout.steps.join(', ')}%, ${settings.rollout.pause_seconds} s each, analysed`);
    } else this.o.say(`  following rollout ${id}`);
    let last = '';
    for (;;) {
      const views = await this.rollouts();
      const view = views.current?.id === id ? views.current : views.last?.id === id ? views.last : null;
      if (!view) throw new Error(`rollout ${id} is neither in progress nor the last one: another rollout ran meanwhile`);
      const line = `step ${view.step_index + 1}/${view.steps.length} (${view.step_percent}%) ${view.state}/${view.phase}${view.last_analysis ? `; analysis ${view.last_analysis.verdict}: ${view.last_analysis.summary}` : ''}`;
      if (line !== last) this.o.say(`  ${line}`);
      last = line;
      const details = { rollout: view };
      if (view.state === 'completed') return { passed: true, summary: `rollout ${id} completed: ${view.message}`, details };
      if (view.state === 'failed' || view.state === 'aborted') return { passed: false, summary: `rollout ${id} ${view.state}: ${view.message}`, details };
      if (Date.now() > this.deadline) {
        await ok('POST /admin/rollouts/current/abort', this.router.POST('/admin/rollouts/current/abort'));
        return { passed: false, summary: `rollout ${id} not done within the release's ${settings.timeout_seconds} s: aborted (${view.message})`, details };
      }
      await sleep(POLL_MS);
    }
  }

  /**
   * The rollout a run started and could not record before it stopped (killed between the two
   * calls): of this environment from the baseline, started since this step began.
   */
  private async startedUnrecorded(): Promise<string | undefined> {
    const since = this.record.steps.find((s) => s.name === 'rollout' && s.state === 'running')?.started_at;
    if (!since) return undefined;
    const views = await this.rollouts();
    const mine = (v: RolloutView | null) => v !== null && v.target === this.env && v.baseline === this.facts.baseline_environment && v.started_at >= since;
    return mine(views.current) ? views.current!.id : mine(views.last) ? views.last!.id : undefined;
  }

  /** A failed live step: the rollout undone (the rollout manager restores its weights), the candidate out of rotation and archived. */
  private async rollBack(reason: string): Promise<ReleaseOutcome> {
    await this.step('rollback', async () => {
      const id = this.facts.rollout_id as string | undefined;
      const views = await this.rollouts();
      if (views.current && (views.current.id === id || views.current.target === this.env)) await ok('POST /admin/rollouts/current/abort', this.router.POST('/admin/rollouts/current/abort'));
      const config = await ok('GET /admin/config', this.router.GET('/admin/config'));
      const mine = config.environments.find((e) => e.name === this.env);
      if (mine && mine.weight > 0) await ok('PUT /admin/weights', this.router.PUT('/admin/weights', { body: { weights: { [this.env]: 0 }, shadow: { [this.env]: 0 } } }));
      await this.setStage(this.version, 'archived', `rolled back: ${reason}`);
      const weights = Object.fromEntries((await ok('GET /admin/config', this.router.GET('/admin/config'))).environments.map((e) => [e.name, e.weight]));
      return { passed: true, summary: `weights back to ${JSON.stringify(weights)}; ${this.model} ${this.version} archived`, details: { weights } };
    });
    return this.end('rolled_back', reason);
  }

  // ---- the record -----------------------------------------------------------------------------

  /** Claims the release slot, or resumes this bundle's release; false: no environment can take the candidate. */
  private async claim(): Promise<string | null> {
    const before = await ok('GET /admin/releases', this.router.GET('/admin/releases'));
    const digest = manifestDigest(this.o.bundle);
    const mine = before.current && before.current.model === this.model && before.current.version === this.version && before.current.digest === digest ? before.current : null;
    const holder = mine?.holder;
    // The same release, run by a process that is still alive on this host: never two drivers.
    const pid = holder?.startsWith(`${os.hostname()} pid `) ? Number(holder.split(' pid ')[1]) : NaN;
    if (mine && pid !== process.pid && Number.isInteger(pid) && alive(pid)) {
      throw new AdminCallError('POST /admin/releases', 409, { message: `release ${mine.id} is being run by ${holder}` });
    }
    let environment = mine?.environment;
    if (!environment) {
      const chosen = await this.chooseEnvironment();
      if ('refusal' in chosen) return chosen.refusal;
      environment = chosen.environment;
    }
    const claim = (await ok('POST /admin/releases', this.router.POST('/admin/releases', { body: { model: this.model, version: this.version, digest, environment, holder: releaseHolder() } }))) as ReleaseClaimView;
    this.record = claim.release;
    const done = claim.release.steps.filter((s) => s.state === 'passed').map((s) => s.name);
    this.o.say(claim.resumed ? `resuming release ${this.record.id} (done: ${done.join(', ') || 'nothing'})` : `release ${this.record.id}: ${this.model} ${this.version} → ${this.env}`);
    return null;
  }

  /** The first of the release environments that does not serve production with weight. */
  private async chooseEnvironment(): Promise<{ environment: string } | { refusal: string }> {
    const [models, config] = await Promise.all([this.models(), ok('GET /admin/config', this.router.GET('/admin/config'))]);
    const production = models.models.find((m) => m.name === this.model && m.stage === 'production')?.version;
    const heaviest = [...config.environments].sort((a, b) => b.share - a.share)[0];
    const servesProduction = (e: (typeof config.environments)[number]) => e.weight > 0 && (production ? e.model_versions.includes(production) : e.name === heaviest?.name);
    const free = this.o.settings.environments.find((name) => {
      const e = config.environments.find((env) => env.name === name);
      return !e || !servesProduction(e);
    });
    if (!free) return { refusal: `every release environment (${this.o.settings.environments.join(', ')}) serves production${production ? ` (${this.model} ${production})` : ''} with weight: add one to environments in the release settings` };
    return { environment: free };
  }

  private async put(update: Partial<Pick<ReleaseRecord, 'state' | 'steps' | 'outcome' | 'facts'>>): Promise<void> {
    this.record = (await ok('PUT /admin/releases/current', this.router.PUT('/admin/releases/current', { body: { id: this.record.id, ...update } }))) as ReleaseRecord;
  }

  private async saveFacts(facts: Record<string, unknown>): Promise<void> {
    await this.put({ facts });
  }

  /**
   * Runs a step unless it passed already (a resumed release): recorded as running, then with its
   * result. An error in the step is its failure.
   */
  private async step(name: StepName, run: () => Promise<StepResult>): Promise<StepResult> {
    const done = this.record.steps.find((s) => s.name === name && s.state === 'passed');
    if (done) return { passed: true, summary: done.summary, details: done.details };
    if (this.record.state !== 'running') return { passed: false, summary: this.record.outcome ?? this.record.state };
    this.o.say(`${name}…`);
    // A step a stopped run began goes on as the same step (its start is what it may have done since).
    const started_at = this.record.steps.find((s) => s.name === name && s.state === 'running')?.started_at ?? new Date().toISOString();
    const others = this.record.steps.filter((s) => !(s.name === name && s.state === 'running'));
    await this.put({ steps: [...others, { name, state: 'running', started_at, finished_at: null, summary: '' }] });
    let result: StepResult;
    try {
      result = await run();
    } catch (err) {
      result = { passed: false, summary: (err as Error).message };
    }
    if (this.record.state !== 'running') return result; // the step ended the release itself
    const finished: ReleaseStep = { name, state: result.passed ? 'passed' : 'failed', started_at, finished_at: new Date().toISOString(), summary: result.summary, ...(result.details === undefined ? {} : { details: result.details }) };
    await this.put({ steps: [...others, finished] });
    this.o.say(`${name}: ${result.passed ? 'passed' : 'FAILED'}: ${result.summary}`);
    return result;
  }

  private async setStage(version: string, stage: 'staging' | 'production' | 'archived', reason: string) {
    const res = await ok(`PUT /admin/models/${this.model}/${version}/stage`, this.router.PUT('/admin/models/{model}/{version}/stage', { params: { path: { model: this.model, version } }, body: { stage, reason, by: `release ${this.record.id}`, release_id: this.record.id } }));
    return res.changed;
  }

  /** A bundle added while the deployment runs is in the registry once the controller's rescan reports it. */
  private async untilListed(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!(await this.models()).models.some((m) => m.name === this.model && m.version === this.version)) {
      if (Date.now() > deadline) throw new Error(`the controller has not reported ${this.model} ${this.version} within 60 s (GET /admin/models)`);
      await sleep(POLL_MS);
    }
  }

  private async models(): Promise<ModelsView> {
    return ok('GET /admin/models', this.router.GET('/admin/models')) as Promise<ModelsView>;
  }

  private async end(state: ReleaseState, outcome: string): Promise<ReleaseOutcome> {
    if (this.record.state === 'running') await this.put({ state, outcome });
    return this.finish();
  }

  private async finish(): Promise<ReleaseOutcome> {
    return { state: this.record.state, record: this.record, decisions: await this.decisions() };
  }

  /** The trail's entries this release made or caused (its stage moves, steps, its rollout's steps and analyses). */
  async decisions(): Promise<HistoryEntry[]> {
    const entries = (await ok('GET /admin/history', this.router.GET('/admin/history', { params: { query: { limit: '1000' } } }))) as HistoryEntry[];
    const rollout = this.facts.rollout_id;
    return entries.filter((e) => e.release_id === this.record.id || (rollout !== undefined && e.rollout_id === rollout)).reverse();
  }

  private refuseUnrecorded(reason: string): ReleaseOutcome {
    this.o.say(`refused: ${reason}`);
    return { state: 'refused', record: null, refusal: reason, decisions: [] };
  }

  /** A bundle with a manifest that fails validation: refused, and the refusal recorded. */
  private async refuseRecorded(reason: string): Promise<ReleaseOutcome> {
    const refusal = await this.claim();
    if (refusal) return this.refuseUnrecorded(`${reason}; ${refusal}`);
    const at = new Date().toISOString();
    await this.put({ steps: [...this.record.steps, { name: 'validate', state: 'failed', started_at: at, finished_at: at, summary: reason }] });
    this.o.say(`validate: FAILED: ${reason}`);
    return this.end('refused', `refused before loading: ${reason}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
