// The router's static (start-up) configuration; the dynamic part is the weights file.
import { Type, type Static } from '@sinclair/typebox';
import path from 'node:path';
import { LogLevel, readEnv } from '../../shared/config.ts';
import type { GuardOptions } from './rollouts/guard.ts';
import type { HedgeOptions } from './proxy/hedge.ts';

export const RouterEnv = Type.Object({
  ROUTER_HOST: Type.String({ default: '127.0.0.1', description: 'address the HTTP listener binds' }),
  ROUTER_PORT: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'the HTTP listener (0 picks a free port)' }),
  ROUTER_GRPC_PORT: Type.Integer({ default: 8081, minimum: 0, maximum: 65535, description: "the Open Inference Protocol's gRPC listener (0 picks a free port)" }),
  WEIGHTS_FILE: Type.String({ default: 'deploy/weights.yaml', minLength: 1, description: 'how traffic splits: environments, weights, replicas or DNS names, shadow, sticky assignment (hot-reloaded; PUT /admin/weights writes it)' }),
  FEEDBACK_FILE: Type.Optional(Type.String({ minLength: 1, description: 'append-only file of feedback records (and experiment resets): feedback is answered 202 once written there, and counts again after a restart; unset: in memory only' })),
  HISTORY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'append-only file of the decision trail (GET /admin/history), kept across restarts; unset: in memory only' })),
  ROUTER_ADMIN_TOKEN: Type.String({ minLength: 16, description: 'bearer token for /admin (at least 16 characters)' }),
  DNS_SERVERS: Type.String({ default: '', description: "comma-separated DNS servers (ip or ip:port) for environments discovered by DNS; empty: the system's resolv.conf" }),
  DNS_TIMEOUT_MS: Type.Integer({ default: 2000, minimum: 100, maximum: 60_000, description: 'one DNS lookup at most; a failed lookup keeps the replicas last found' }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'when set, GET /metrics needs it as a bearer token' })),
  ROUTER_READ_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'read-only token: GET on /admin and the dashboard (at least 16 characters)' })),
  LOG_LEVEL: { ...LogLevel, description: 'pino level; debug adds one line per request' },
  ROUTER_BODY_LIMIT_BYTES: Type.Integer({ default: 1_048_576, minimum: 1024, description: 'request bodies above this are refused with 413' }),
  ROUTER_CONNECT_TIMEOUT_MS: Type.Integer({ default: 1000, minimum: 1, description: 'connecting to a replica; a connection that fails is retried elsewhere' }),
  ROUTER_HEADERS_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1, description: "waiting for a replica's answer to begin (504 after)" }),
  ROUTER_BODY_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1, description: "idle time allowed while reading an upstream body; connect + headers + body bound a whole request" }),
  ROUTER_POOL_CONNECTIONS: Type.Integer({ default: 32, minimum: 1, description: 'keep-alive connections per replica' }),
  HEALTH_INTERVAL_MS: Type.Integer({ default: 1000, minimum: 10, description: 'how often each replica\'s /health/ready is checked' }),
  HEALTH_TIMEOUT_MS: Type.Integer({ default: 500, minimum: 1, description: 'a check unanswered by then fails' }),
  HEALTH_RISE: Type.Integer({ default: 2, minimum: 1, description: 'passed checks in a row before a replica takes traffic again' }),
  HEALTH_FALL: Type.Integer({ default: 2, minimum: 1, description: 'failed checks in a row before a replica is taken out' }),
  EJECT_AFTER_FAILURES: Type.Integer({ default: 3, minimum: 1, description: 'failed requests in a row (5xx, connection errors, a hedge that won) before a replica is ejected (outlier detection)' }),
  EJECT_BASE_MS: Type.Integer({ default: 5000, minimum: 1, description: 'the first ejection\'s length; each repeated ejection doubles it' }),
  EJECT_MAX_MS: Type.Integer({ default: 60_000, minimum: 1, description: 'the longest ejection' }),
  RETRY_BUDGET_RATIO: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'retries and hedges may add at most this share of the last 10 s of requests' }),
  RETRY_MIN_PER_SECOND: Type.Number({ default: 10, minimum: 0, description: 'retries allowed per second whatever the ratio (a quiet router can still retry)' }),
  REPLICA_MAX_IN_FLIGHT: Type.Integer({ default: 64, minimum: 0, description: 'requests one replica may have in flight; when every replica of the chosen environment is there, requests are shed at once (503 ERR_OVERLOADED, Retry-After); 0: no limit' }),
  HEDGE_DELAY_FACTOR: Type.Number({ default: 3, minimum: 0, maximum: 100, description: "send a prediction to a second replica too when the first has not answered after this many times the environment's recent P99; 0 turns hedging off" }),
  HEDGE_DELAY_MIN_MS: Type.Integer({ default: 50, minimum: 1, description: 'the hedge delay at least' }),
  HEDGE_DELAY_MAX_MS: Type.Integer({ default: 1000, minimum: 1, description: 'the hedge delay at most (and until the P99 is known)' }),
  RATE_LIMIT_MAX: Type.Integer({ default: 60_000, minimum: 0, description: 'requests per window per API key or client IP on the data path; 0 turns it off' }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ default: 60_000, minimum: 1, description: 'the rate limit\'s window' }),
  API_KEYS: Type.Optional(Type.String({ description: 'comma-separated API keys; when set (or API_KEYS_FILE), the data path needs X-API-Key' })),
  API_KEYS_FILE: Type.Optional(Type.String({ description: 'a file of API keys, one per line (# comments), read at start; keys from it and from API_KEYS are all accepted' })),
  ROUTE_OVERRIDE_ALLOW: Type.String({ default: '', description: 'client IPs allowed to force an environment with X-Route-To (admin-token holders always are)' }),
  COALESCE_MAX_BATCH: Type.Integer({ default: 0, minimum: 0, maximum: 256, description: 'coalesce concurrent POST /predict requests to one environment into /predict/batch calls of up to this many texts (at most the replicas\' MAX_BATCH_TEXTS); 0 turns it off, and an environment given coalesce: false in the weights file is left out' }),
  COALESCE_MAX_WAIT_MS: Type.Number({ default: 2, minimum: 0, maximum: 1000, description: 'how long a partial batch may wait for one in flight to come back' }),
  COALESCE_MAX_IN_FLIGHT: Type.Integer({ default: 0, minimum: 0, maximum: 1024, description: "coalesced batches one environment may have in flight at once (a batch overdue on a stalled replica still lets one more leave); 0: as many as its available replicas run side by side. Where the replicas share the router's cores, fewer and fuller batches cost less" }),
  FEEDBACK_MEMORY: Type.Integer({ default: 100_000, minimum: 0, maximum: 10_000_000, description: 'recent predictions remembered for POST /feedback (about 200 bytes each); 0 turns feedback off' }),
  FEEDBACK_TTL_SECONDS: Type.Integer({ default: 3600, minimum: 1, description: 'how long a prediction can receive feedback' }),
  SHADOW_MAX_IN_FLIGHT: Type.Integer({ default: 64, minimum: 0, description: 'mirrored requests in flight at most; more are dropped (and counted), never queued' }),
  GUARD_MODE: Type.Union([Type.Literal('act'), Type.Literal('alert'), Type.Literal('off')], { default: 'act', description: 'the standing guard: act (weight set to 0), alert (reported only) or off' }),
  GUARD_INTERVAL_MS: Type.Integer({ default: 5000, minimum: 100, description: 'how often the guard checks every environment with weight' }),
  GUARD_CONSECUTIVE: Type.Integer({ default: 3, minimum: 1, description: 'checks in a row an environment must fail before the guard acts (as an alert rule\'s for)' }),
  GUARD_WINDOW_SECONDS: Type.Integer({ default: 30, minimum: 1, maximum: 60, description: 'the sliding window each check reads' }),
  GUARD_MIN_REQUESTS: Type.Integer({ default: 50, minimum: 1, description: 'requests in the window before the guard concludes anything' }),
  GUARD_MAX_ERROR_RATE: Type.Number({ default: 0.01, minimum: 0, maximum: 1, description: "the seed's 1%" }),
  GUARD_MAX_P95_RATIO: Type.Number({ default: 1.2, minimum: 1, description: "P95 against the heaviest other environment's (the seed's +20%)" }),
  GUARD_MIN_P95_INCREASE_MS: Type.Number({ default: 25, minimum: 0, description: "and at least this much slower, so a busy machine's tail noise does not trip it" }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 0, description: 'SIGTERM: readiness goes false, in-flight requests finish within this, then exit' }),
});
export type RouterEnv = Static<typeof RouterEnv>;

export interface RouterConfig {
  host: string;
  port: number;
  grpcPort: number;
  weightsFile: string;
  historyFile?: string;
  adminToken: string;
  readToken?: string;
  metricsToken?: string;
  /** DNS discovery: servers to ask (none: the system's) and the timeout per lookup. */
  discovery: { servers: string[]; timeoutMs: number };
  logLevel: string;
  bodyLimit: number;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  poolConnections: number;
  health: { intervalMs: number; timeoutMs: number; rise: number; fall: number; ejectAfter: number; ejectBaseMs: number; ejectMaxMs: number };
  retry: { ratio: number; minPerSecond: number };
  hedge: HedgeOptions;
  replicaMaxInFlight: number;
  rateLimit: { max: number; windowMs: number };
  apiKeys: { inline?: string; file?: string };
  overrideAllow: string[];
  /** maxBatch 0: every request is proxied as it came. */
  coalesce: { maxBatch: number; maxWaitMs: number; maxInFlight?: number };
  guard: GuardOptions;
  feedback: { memory: number; ttlMs: number; file?: string };
  shadowMaxInFlight: number;
  shutdownTimeoutMs: number;
}

export function routerConfig(env: RouterEnv): RouterConfig {
  return {
    host: env.ROUTER_HOST,
    port: env.ROUTER_PORT,
    grpcPort: env.ROUTER_GRPC_PORT,
    weightsFile: path.resolve(env.WEIGHTS_FILE),
    historyFile: env.HISTORY_FILE === undefined ? undefined : path.resolve(env.HISTORY_FILE),
    adminToken: env.ROUTER_ADMIN_TOKEN,
    readToken: env.ROUTER_READ_TOKEN,
    metricsToken: env.METRICS_TOKEN,
    discovery: { servers: env.DNS_SERVERS.split(',').map((s) => s.trim()).filter(Boolean), timeoutMs: env.DNS_TIMEOUT_MS },
    logLevel: env.LOG_LEVEL,
    bodyLimit: env.ROUTER_BODY_LIMIT_BYTES,
    timeouts: { connectMs: env.ROUTER_CONNECT_TIMEOUT_MS, headersMs: env.ROUTER_HEADERS_TIMEOUT_MS, bodyMs: env.ROUTER_BODY_TIMEOUT_MS },
    poolConnections: env.ROUTER_POOL_CONNECTIONS,
    health: {
      intervalMs: env.HEALTH_INTERVAL_MS,
      timeoutMs: env.HEALTH_TIMEOUT_MS,
      rise: env.HEALTH_RISE,
      fall: env.HEALTH_FALL,
      ejectAfter: env.EJECT_AFTER_FAILURES,
      ejectBaseMs: env.EJECT_BASE_MS,
      ejectMaxMs: env.EJECT_MAX_MS,
    },
    retry: { ratio: env.RETRY_BUDGET_RATIO, minPerSecond: env.RETRY_MIN_PER_SECOND },
    replicaMaxInFlight: env.REPLICA_MAX_IN_FLIGHT,
    hedge: { factor: env.HEDGE_DELAY_FACTOR, minMs: env.HEDGE_DELAY_MIN_MS, maxMs: Math.max(env.HEDGE_DELAY_MIN_MS, env.HEDGE_DELAY_MAX_MS) },
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    apiKeys: { inline: env.API_KEYS, file: env.API_KEYS_FILE },
    overrideAllow: env.ROUTE_OVERRIDE_ALLOW.split(',').map((s) => s.trim()).filter(Boolean),
    coalesce: { maxBatch: env.COALESCE_MAX_BATCH, maxWaitMs: env.COALESCE_MAX_WAIT_MS, maxInFlight: env.COALESCE_MAX_IN_FLIGHT },
    guard: {
      mode: env.GUARD_MODE,
      intervalMs: env.GUARD_INTERVAL_MS,
      consecutive: env.GUARD_CONSECUTIVE,
      window_seconds: env.GUARD_WINDOW_SECONDS,
      min_requests: env.GUARD_MIN_REQUESTS,
      max_error_rate: env.GUARD_MAX_ERROR_RATE,
      max_p95_ratio: env.GUARD_MAX_P95_RATIO,
      min_p95_increase_ms: env.GUARD_MIN_P95_INCREASE_MS,
      min_feedback: 30,
    },
    feedback: { memory: env.FEEDBACK_MEMORY, ttlMs: env.FEEDBACK_TTL_SECONDS * 1000, file: env.FEEDBACK_FILE === undefined ? undefined : path.resolve(env.FEEDBACK_FILE) },
    shadowMaxInFlight: env.SHADOW_MAX_IN_FLIGHT,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  return routerConfig(readEnv(RouterEnv, env));
}
