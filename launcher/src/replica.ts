// One replica process, from start to stop, as a Deployment's pod: started, ready (its readiness
// check passes), answering (a smoke prediction returns a label from the expected version), then
// registered with the router and routed to; stopped by deregistering first (the router sends it
// nothing new and lets in-flight requests finish), then SIGTERM (it drains its own queue).
import fsp from 'node:fs/promises';
import { request } from 'undici';
import type { Logger } from 'pino';
import { READY_PATH } from '../../shared/api/health.ts';
import { PREDICT_PATH } from '../../shared/api/prediction.ts';
import { Child, type ChildOptions } from './child.ts';
import type { Phase, Template } from './planner.ts';
import type { RouterApi } from './router-client.ts';
import { waitFor } from './wait.ts';

export const SMOKE_TEXT = 'a gripping , beautifully acted film';

/** Does the process at `url` (a replica or the router) answer its readiness check (or another probe) with 200? */
export async function answersReady(url: string, probe = READY_PATH): Promise<boolean> {
  const res = await request(`${url}${probe}`, { headersTimeout: 1000, bodyTimeout: 1000 });
  await res.body.dump();
  return res.statusCode === 200;
}

export interface ReplicaOptions {
  id: string;
  environment: string;
  template: Template;
  /** The process to run, resolved at start (a port is chosen then). */
  child: () => Promise<ChildOptions>;
  readyTimeoutMs: number;
  router: RouterApi;
  log: Logger;
}

/** The reason a replica gave for failing, from the last error line of its log (the process exits with one). */
async function reasonInLog(file: string, from: number): Promise<string | undefined> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  const lines = text.slice(from).split('\n').reverse();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: number; reason?: string; err?: { message?: string }; msg?: string };
      if ((entry.level ?? 0) >= 50) return entry.reason ?? entry.err?.message ?? entry.msg;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

export class ReplicaProcess {
  phase: Phase = 'starting';
  readonly startedAt = new Date().toISOString();
  private child: Child | undefined;
  private stopping = false;

  constructor(private readonly o: ReplicaOptions) {}

  get id(): string {
    return this.o.id;
  }

  get template(): Template {
    return this.o.template;
  }

  get url(): string | undefined {
    return this.child?.url;
  }

  get grpc(): string | undefined {
    return this.child?.grpc;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves once the router routes to the replica; rejects with the reason it could not start. */
  async start(onExit: (replica: ReplicaProcess) => void): Promise<void> {
    const options = await this.o.child();
    const logFrom = (await fsp.stat(options.logFile).catch(() => ({ size: 0 }))).size;
    if (this.stopping) throw new Error('stopped before it started');
    const child = new Child(options);
    this.child = child;
    void child.exited.then(() => {
      if (!this.stopping) onExit(this);
    });
    const fail = async (problem: string): Promise<never> => {
      child.kill();
      await child.exited;
      const reason = await reasonInLog(options.logFile, logFrom);
      throw new Error(reason ? `${problem}: ${reason}` : problem);
    };
    const deadline = Date.now() + this.o.readyTimeoutMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    const url = await child.listening.catch((err: Error) => fail(`the replica ${err.message}`));
    if (!(await waitFor(() => answersReady(url), { timeoutMs: remaining(), while: () => child.running }))) {
      return fail(child.running ? `not ready within ${this.o.readyTimeoutMs / 1000} s` : 'the replica exited before it was ready');
    }
    const smoke = await this.smoke(url).catch((err: Error) => err.message);
    if (smoke !== true) return fail(`the smoke prediction failed (${smoke})`);
    // The router may be starting (or restarting) too: registration waits for it, within the deadline.
    const registered = () => this.o.router.register(this.o.environment, url).then(() => true);
    if (!(await waitFor(registered, { timeoutMs: remaining(), while: () => child.running }))) return fail('the router could not be reached to register it');
    if (!(await waitFor(() => this.o.router.routesTo(url), { timeoutMs: remaining(), while: () => child.running }))) {
      await this.o.router.deregister(this.o.environment, url).catch(() => {});
      return fail('the router did not take it into rotation');
    }
    this.phase = 'ready';
    this.o.log.info({ environment: this.o.environment, replica: this.o.id, url, model: this.o.template.model, model_version: this.o.template.version, pid: child.pid }, 'replica ready and in rotation');
  }

  /** Deregisters (in-flight requests finish), then stops the process, which drains its own queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.phase = 'stopping';
    const url = this.child?.url;
    if (url) await this.o.router.deregister(this.o.environment, url).catch((err: unknown) => this.o.log.warn({ err, replica: this.o.id }, 'deregistration failed; stopping anyway'));
    await this.child?.stop();
  }

  /** Registers again with a router that restarted (and forgot its replicas). */
  async reregister(): Promise<void> {
    if (this.phase === 'ready' && this.url) await this.o.router.register(this.o.environment, this.url);
  }


  /** One real prediction: a label, from the version this replica is meant to serve. */
  private async smoke(url: string): Promise<true> {
    const res = await request(`${url}${PREDICT_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: SMOKE_TEXT }), headersTimeout: 5000, bodyTimeout: 5000 });
    const body = (await res.body.json()) as { sentiment?: unknown; model_version?: unknown };
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    if (typeof body.sentiment !== 'string') throw new Error('no label in the answer');
    if (body.model_version !== this.o.template.version) throw new Error(`it answered as version ${String(body.model_version)}`);
    return true;
  }
}
