// The service's environment, validated once at boot.
import { Type, type Static } from '@sinclair/typebox';
import path from 'node:path';
import { LogLevel, readEnv } from '../../../shared/config.ts';
import { bundleDir } from '../../../shared/bundle/layout.ts';
import { readPublicKey, type IntegrityPolicy } from '../../../shared/bundle/manifest.ts';
import { DEFAULT_TEXT_LIMITS } from '../../../shared/api/prediction.ts';
import type { WarmUpBounds } from '../../../shared/http/warm-up.ts';

export const ServiceEnv = Type.Object({
  MODEL_DIR: Type.Optional(Type.String({ minLength: 1, description: 'a bundle directory; overrides MODELS_DIR/MODEL_NAME/MODEL_VERSION' })),
  MODELS_DIR: Type.String({ default: 'models', minLength: 1, description: 'where bundles live, as MODELS_DIR/MODEL_NAME/MODEL_VERSION' }),
  MODEL_NAME: Type.String({ default: 'sentiment', pattern: '^[A-Za-z0-9._-]+$', description: 'the bundle\'s model name' }),
  MODEL_VERSION: Type.String({ default: '1.1.0', pattern: '^[A-Za-z0-9._-]+$', description: 'the bundle\'s version' }),
  HOST: Type.String({ default: '127.0.0.1', description: 'address the HTTP listener binds' }),
  PORT: Type.Integer({ default: 8000, minimum: 0, maximum: 65535, description: 'the HTTP listener (0 picks a free port)' }),
  GRPC_PORT: Type.Integer({ default: 8001, minimum: 0, maximum: 65535, description: "the Open Inference Protocol's gRPC service (0 picks a free port)" }),
  LOG_LEVEL: { ...LogLevel, description: 'pino level; debug adds one line per request' },
  BATCH_MAX_SIZE: Type.Integer({ default: 32, minimum: 1, maximum: 1024, description: 'texts per onnxruntime call at most (dynamic micro-batching; 1 turns it off)' }),
  BATCH_MAX_WAIT_MS: Type.Number({ default: 2, minimum: 0, maximum: 1000, description: 'how long a partial batch waits for companions' }),
  BATCH_MAX_QUEUE: Type.Integer({ default: 2048, minimum: 1, description: 'texts queued at most; more are refused with 503 ERR_OVERLOADED' }),
  BATCH_SPLIT_COST_TOKENS: Type.Integer({ default: 0, minimum: 0, description: 'length-aware batching: a batch is cut into runs of similar length when the padding saved exceeds this many tokens per extra onnxruntime call (0: never; transformers: see the README)' }),
  INFERENCE_WORKERS: Type.Integer({ default: 1, minimum: 0, maximum: 64, description: 'worker threads running onnxruntime, each its own session and one batch at a time, so inference never blocks the event loop; reported as concurrency in /info. 0 runs inference inline on the event loop instead: what npm start gives the built-in bag models, whose batches take microseconds, on two cores shared by seven processes' }),
  ORT_INTRA_OP_THREADS: Type.Integer({ default: 1, minimum: 0, maximum: 256, description: "threads of each session's intra-op pool (for a compute-bound model, N workers of one thread beat one session of N)" }),
  ORT_INTER_OP_THREADS: Type.Integer({ default: 1, minimum: 0, maximum: 256, description: "threads of each session's inter-op pool" }),
  ORT_SPINNING: Type.Boolean({ default: true, description: 'idle onnxruntime pool threads busy-wait for work (fastest on free cores); false when the cores are shared' }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 1_048_576, minimum: 1024, description: 'request bodies above this are refused with 413' }),
  MAX_TEXT_LENGTH: Type.Integer({ default: DEFAULT_TEXT_LIMITS.textLength, minimum: 1, description: 'characters per text' }),
  MAX_BATCH_TEXTS: Type.Integer({ default: DEFAULT_TEXT_LIMITS.batchTexts, minimum: 1, description: 'texts per /predict/batch or infer request at most (400 above)' }),
  RATE_LIMIT_MAX: Type.Integer({ default: 0, minimum: 0, description: 'requests per window per client IP; 0 turns it off (the router limits the public edge)' }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ default: 60_000, minimum: 1, description: 'the rate limit\'s window' }),
  WARMUP_REQUESTS: Type.Integer({ default: 0, minimum: 0, maximum: 1_000_000, description: 'requests the replica sends itself before its port opens (batches of 1 to 32 texts and single texts, over a private loopback listener, then the metrics reset), so V8 has optimized the request path before the first client: a fresh replica spends more CPU per request than one that has served thousands; 0 turns it off' }),
  WARMUP_MAX_MS: Type.Integer({ default: 10_000, minimum: 0, description: 'the warm-up stops after this long, whatever WARMUP_REQUESTS says' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 0, description: 'SIGTERM: readiness goes false, in-flight requests finish within this, then exit 0' }),
  BUNDLE_REQUIRE_MANIFEST: Type.Boolean({ default: false, description: "refuse a bundle without manifest.json (its files' sha256); with one, a changed, missing or added file is refused either way" }),
  BUNDLE_PUBLIC_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'an Ed25519 public key (PEM): when set, only bundles whose manifest.sig verifies with it load' })),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'when set, GET /metrics needs it as a bearer token' })),
});
export type ServiceEnv = Static<typeof ServiceEnv>;

export interface ServiceConfig {
  bundleDir: string;
  modelName?: string;
  modelVersion?: string;
  host: string;
  port: number;
  grpcPort: number;
  logLevel: string;
  batching: { maxBatchSize: number; maxWaitMs: number; maxQueue: number; concurrency: number; splitCostTokens?: number };
  runtime: { workers: number; intraOpThreads: number; interOpThreads: number; spinning: boolean };
  limits: { bodyBytes: number; textLength: number; batchTexts: number };
  rateLimit: { max: number; windowMs: number };
  warmUp: WarmUpBounds;
  shutdownTimeoutMs: number;
  metricsToken?: string;
  integrity: IntegrityPolicy;
}

export function serviceConfig(env: ServiceEnv): ServiceConfig {
  const explicit = env.MODEL_DIR !== undefined;
  return {
    bundleDir: path.resolve(env.MODEL_DIR ?? bundleDir(env.MODELS_DIR, env.MODEL_NAME, env.MODEL_VERSION)),
    modelName: explicit ? undefined : env.MODEL_NAME,
    modelVersion: explicit ? undefined : env.MODEL_VERSION,
    host: env.HOST,
    port: env.PORT,
    grpcPort: env.GRPC_PORT,
    logLevel: env.LOG_LEVEL,
    batching: {
      maxBatchSize: env.BATCH_MAX_SIZE,
      maxWaitMs: env.BATCH_MAX_WAIT_MS,
      maxQueue: env.BATCH_MAX_QUEUE,
      splitCostTokens: env.BATCH_SPLIT_COST_TOKENS,
      concurrency: Math.max(1, env.INFERENCE_WORKERS),
    },
    runtime: { workers: env.INFERENCE_WORKERS, intraOpThreads: env.ORT_INTRA_OP_THREADS, interOpThreads: env.ORT_INTER_OP_THREADS, spinning: env.ORT_SPINNING },
    limits: { bodyBytes: env.BODY_LIMIT_BYTES, textLength: env.MAX_TEXT_LENGTH, batchTexts: env.MAX_BATCH_TEXTS },
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    warmUp: { requests: env.WARMUP_REQUESTS, maxMs: env.WARMUP_MAX_MS },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    metricsToken: env.METRICS_TOKEN,
    integrity: { requireManifest: env.BUNDLE_REQUIRE_MANIFEST, ...(env.BUNDLE_PUBLIC_KEY_FILE ? { publicKey: readPublicKey(env.BUNDLE_PUBLIC_KEY_FILE) } : {}) },
  };
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return serviceConfig(readEnv(ServiceEnv, env));
}
