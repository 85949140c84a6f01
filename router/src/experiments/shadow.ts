// Shadow traffic: a share of /predict requests is mirrored to an environment (the weights file's
// `shadow: <percent>`) after the primary has answered, so it never delays a client; its answer never
// reaches one. Each shadow answer is compared with the primary's: the same label or not, the
// confidence and latency deltas. Mirrors in flight are bounded; past the bound they are dropped
// and counted, never queued.
import type { FastifyBaseLogger } from 'fastify';
import { answerSummary, type AnswerSummary } from '../../../shared/api/prediction.ts';
import type { EnvironmentCall, OutgoingRequest } from '../proxy/call.ts';
import type { WeightsSnapshot } from '../weights/snapshot.ts';

export interface ShadowComparison {
  environment: string;
  version: string;
  primaryEnvironment: string;
  /** null when either answer had no label. */
  agree: boolean | null;
  confidenceDelta: number | null;
  latencyDeltaMs: number;
}

export interface ShadowHooks {
  compared: (c: ShadowComparison) => void;
  /** `version`: the one that answered, else the one the environment serves ('' when it serves several or none yet). */
  failed: (environment: string, version: string) => void;
  dropped: (environment: string, version: string) => void;
}

export class Shadow {
  private inFlight = 0;

  constructor(
    private readonly weights: () => WeightsSnapshot,
    private readonly call: EnvironmentCall,
    private readonly maxInFlight: number,
    private readonly hooks: ShadowHooks,
    private readonly log: FastifyBaseLogger,
    /** The version an environment's replicas serve, for mirrors that got no answer to say it. */
    private readonly versionOf: (environment: string) => string,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * After the primary answered: mirror the request to each shadow environment whose share it falls
   * in, on a later turn of the event loop, once the primary's answer has been written.
   */
  mirror(request: OutgoingRequest, primary: { environment: string; summary: AnswerSummary | null; latencyMs: number }): void {
    setImmediate(() => this.send(request, primary));
  }

  /** Does any environment take mirrored traffic? (Checked before a mirror is built.) */
  get active(): boolean {
    return this.weights().environments.some((e) => e.shadow > 0);
  }

  private send(request: OutgoingRequest, primary: { environment: string; summary: AnswerSummary | null; latencyMs: number }): void {
    for (const env of this.weights().environments) {
      if (env.shadow <= 0 || env.name === primary.environment || this.random() * 100 >= env.shadow) continue;
      if (this.inFlight >= this.maxInFlight) {
        this.hooks.dropped(env.name, this.versionOf(env.name));
        continue;
      }
      this.inFlight++;
      const started = performance.now();
      this.call(env, request, this.log)
        .then(({ result, version }) => {
          if (result.statusCode !== 200) return this.hooks.failed(env.name, version || this.versionOf(env.name));
          const mine = answerSummary(result.body);
          const theirs = primary.summary;
          this.hooks.compared({
            environment: env.name,
            version,
            primaryEnvironment: primary.environment,
            agree: mine?.label && theirs?.label ? mine.label === theirs.label : null,
            confidenceDelta: mine && theirs ? mine.confidence - theirs.confidence : null,
            latencyDeltaMs: performance.now() - started - primary.latencyMs,
          });
        })
        .catch(() => this.hooks.failed(env.name, this.versionOf(env.name)))
        .finally(() => this.inFlight--);
    }
  }
}
