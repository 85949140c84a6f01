// One upstream replica: its keep-alive pool and its health as seen by active checks (rise/fall, as
// HAProxy) and passive outlier detection (consecutive failures eject it, as Envoy).
import { Pool } from 'undici';
import type { DriftProfile } from '../../../shared/drift/profile.ts';

export interface PoolOptions {
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** Where a replica came from: the weights file's list, the admin API, or DNS discovery. */
export type ReplicaSource = 'file' | 'admin' | 'dns';

export class Replica {
  readonly pool: Pool;
  inFlight = 0;
  /** The model and version the replica says it serves (INFO_PATH), read before it first comes up. */
  model: string | null = null;
  modelVersion: string | null = null;
  /** How many batches the replica runs side by side (INFO_PATH; 1 when it does not say). */
  concurrency = 1;
  /** Its bundle's drift reference (INFO_PATH's metadata.drift_reference), if it has one. */
  driftReference: DriftProfile | null = null;
  /** Active health: down until the first check passes. */
  healthy = false;
  everUp = false;
  checkSuccesses = 0;
  checkFailures = 0;
  lastCheckError: string | null = null;
  /** Passive health. */
  consecutiveErrors = 0;
  ejectedUntil = 0;
  ejections = 0;

  constructor(
    readonly environment: string,
    readonly url: string,
    readonly source: ReplicaSource,
    options: PoolOptions,
  ) {
    this.pool = new Pool(url, {
      connections: options.connections,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
      pipelining: 1,
    });
  }

  get ejected(): boolean {
    return this.ejectedUntil > Date.now();
  }

  get available(): boolean {
    return this.healthy && !this.ejected;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
