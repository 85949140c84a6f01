// The router's start-up configuration. How traffic splits is the weights file's job (hot-reloaded,
// written by the admin API); how the router behaves (health, retries, hedging, guard, limits,
// coalescing) is its own YAML file, ROUTER_CONFIG_FILE, read at start. Every field of that file
// can be overridden by one environment variable named after its path (`coalesce.max_batch` →
// ROUTER_COALESCE_MAX_BATCH); secrets come from the environment only. One schema validates the
// file and the overrides, types RouterConfig, and writes the README's tables.
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { LogLevel, readEnv } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { isRecord } from '../../shared/is-record.ts';
import type { WarmUpBounds } from '../../shared/http/warm-up.ts';
import type { DriftSettings } from './drift/monitor.ts';
import type { GuardOptions } from './rollouts/guard.ts';
import type { HedgeOptions } from './proxy/hedge.ts';

const section = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) => Type.Object(properties, { default: {}, additionalProperties: false, description });
const positive = (def: number, description: string) => Type.Integer({ default: def, minimum: 1, description });

/** The router's file, every field with its default: what `GET /admin/config` shows as `router`. */
export const RouterSettings = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'address the HTTP and gRPC listeners bind' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'the HTTP listener (0 picks a free port)' }),
    grpc_port: Type.Integer({ default: 8081, minimum: 0, maximum: 65535, description: "the Open Inference Protocol's gRPC listener (0 picks a free port)" }),
    weights_file: Type.String({ default: 'deploy/weights.yaml', minLength: 1, description: "how traffic splits: environments, weights, replicas or DNS names, shadow, sticky assignment (hot-reloaded; PUT /admin/weights writes it). Relative to this file's folder when set here, to the working directory when set by the variable" }),
    log_level: { ...LogLevel, description: 'pino level; debug adds one line per request' },
    body_limit_bytes: Type.Integer({ default: 1_048_576, minimum: 1024, description: 'request bodies above this are refused with 413' }),
    shutdown_timeout_ms: Type.Integer({ default: 30_000, minimum: 0, description: 'SIGTERM: readiness goes false, in-flight requests finish within this, then exit' }),
    replica: section(
      {
        connect_timeout_ms: positive(1000, 'connecting to a replica; a connection that fails is retried elsewhere'),
        headers_timeout_ms: positive(10_000, "waiting for a replica's answer to begin (504 after)"),
        body_timeout_ms: positive(10_000, 'idle time allowed while reading an upstream body; connect + headers + body bound a whole request'),
        pool_connections: positive(32, 'keep-alive connections per replica'),
        max_in_flight: Type.Integer({ default: 64, minimum: 0, description: 'requests one replica may have in flight; when every replica of the chosen environment is there, requests are shed at once (503 ERR_OVERLOADED, Retry-After); 0: no limit' }),
      },
      'how the router talks to replicas',
    ),
    health: section(
      {
        interval_ms: Type.Integer({ default: 1000, minimum: 10, description: "how often each replica's /health/ready is checked" }),
        timeout_ms: positive(500, 'a check unanswered by then fails'),
        rise: positive(2, 'passed checks in a row before a replica takes traffic again'),
        fall: positive(2, 'failed checks in a row before a replica is taken out'),
      },
      'active health checks',
    ),
    eject: section(
      {
        after_failures: positive(3, 'failed requests in a row (5xx, connection errors, a hedge that won) before a replica is ejected (outlier detection)'),
        base_ms: positive(5000, "the first ejection's length; each repeated ejection doubles it"),
        max_ms: positive(60_000, 'the longest ejection'),
      },
      'passive outlier detection',
    ),
    retry_budget: section(
      {
        ratio: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'retries and hedges may add at most this share of the last 10 s of requests' }),
        min_per_second: Type.Number({ default: 10, minimum: 0, description: 'retries allowed per second whatever the ratio (a quiet router can still retry)' }),
      },
      'how much retries and hedges may add',
    ),
    hedge: section(
      {
        delay_factor: Type.Number({ default: 3, minimum: 0, maximum: 100, description: "send a prediction to a second replica too when the first has not answered after this many times the environment's recent P99; 0 turns hedging off" }),
        delay_min_ms: positive(50, 'the hedge delay at least'),
        delay_max_ms: positive(1000, 'the hedge delay at most (and until the P99 is known)'),
      },
      'hedged requests',
    ),
    rate_limit: section(
      {
        max: Type.Integer({ default: 60_000, minimum: 0, description: 'requests per window per API key or client IP on the data path; 0 turns it off' }),
        window_ms: positive(60_000, "the rate limit's window"),
      },
      'the data path\'s rate limit',
    ),
    coalesce: section(
      {
        max_batch: Type.Integer({ default: 0, minimum: 0, maximum: 256, description: "coalesce concurrent POST /predict requests to one environment into /predict/batch calls of up to this many texts (at most the replicas' MAX_BATCH_TEXTS); 0 turns it off, and an environment given coalesce: false in the weights file is left out" }),
        max_wait_ms: Type.Number({ default: 2, minimum: 0, maximum: 1000, description: 'how long a partial batch may wait for one in flight to come back' }),
        max_in_flight: Type.Integer({ default: 0, minimum: 0, maximum: 1024, description: "coalesced batches one environment may have in flight at once (a batch overdue on a stalled replica still lets one more leave, and under light load, light_requests, a request leaves at once); 0: as many as its available replicas run side by side. Where the replicas share the router's cores, fewer and fuller batches cost less" }),
        busy_interval_ms: Type.Number({ default: 0, minimum: 0, maximum: 1000, description: "while the router is busy (busy_requests and busy_utilization), an environment's partial batches leave at most this often: up to this much more latency for fewer, fuller batches; 0 turns it off" }),
        busy_requests: Type.Integer({ default: 16, minimum: 1, maximum: 100_000, description: 'busy, first: for 100 ms after the router held this many coalesced requests, waiting for a batch or in one that is out (router_coalesced_held)' }),
        busy_utilization: Type.Number({ default: 0.85, minimum: 0, maximum: 1, description: "busy, second: while the router's event loop ran at least this share of the last 200 ms (router_event_loop_utilization)" }),
        light_requests: Type.Integer({ default: 4, minimum: 0, maximum: 100_000, description: 'while the router holds fewer coalesced requests than this (the new one included), a request leaves at once as its own batch, even while its environment has one out: under light load waiting adds a round trip and saves nothing; 0 turns it off' }),
      },
      'request coalescing',
    ),
    warm_up: section(
      {
        requests: Type.Integer({ default: 0, minimum: 0, maximum: 1_000_000, description: "after it starts listening, once every environment with weight has a replica to serve it, the router sends itself this many requests (POST /predict, and /predict/batch), half of them on a new connection each, so that V8 has optimized its request pipeline before clients come; readiness stays 503 until it is done. They reach real replicas and are answered as any, but are counted as no prediction (metrics, windows, the experiment, feedback, drift, shadows) and use no client's rate limit. 0 turns it off" }),
        max_ms: Type.Integer({ default: 10_000, minimum: 0, maximum: 600_000, description: 'the warm-up stops after this long, whatever requests says (the wait for replicas, at most 60 s, aside)' }),
      },
      "the router's warm-up",
    ),
    feedback: section(
      {
        memory: Type.Integer({ default: 100_000, minimum: 0, maximum: 10_000_000, description: 'recent predictions remembered for POST /feedback (about 100 bytes each, 40 of them allocated at start); 0 turns feedback off' }),
        ttl_seconds: positive(3600, 'how long a prediction can receive feedback'),
        file: Type.Optional(Type.String({ minLength: 1, description: 'append-only file of feedback records (and experiment resets): feedback is answered 202 once written there, and counts again after a restart; unset: in memory only' })),
      },
      'POST /feedback',
    ),
    rollouts: section({ file: Type.Optional(Type.String({ minLength: 1, description: 'where the rollout in progress (and the last) is kept, written durably at every change: a restarted router goes on with it from its step; unset: in memory only' })) }, 'rollouts across restarts'),
    registry: section({ file: Type.Optional(Type.String({ minLength: 1, description: "where the model registry (each model version's stage and the release in progress) is kept, written durably at every change; unset: in memory only. With a state store it is kept there" })) }, 'the model registry'),
    history: section({ file: Type.Optional(Type.String({ minLength: 1, description: 'append-only file of the decision trail (GET /admin/history), kept across restarts; unset: in memory only' })) }, 'the decision trail'),
    drift: section(
      {
        window_requests: Type.Integer({ default: 1000, minimum: 0, maximum: 100_000, description: 'each environment and version is tested on its last this many predictions (0: drift monitoring off)' }),
        min_requests: Type.Integer({ default: 300, minimum: 10, description: 'predictions a window needs before it is tested' }),
        alpha: Type.Number({ default: 0.001, minimum: 1e-9, maximum: 0.5, description: "per environment and look, the chance of flagging drift that is not there, shared by its tests (Bonferroni)" }),
      },
      'drift monitoring (GET /admin/drift)',
    ),
    graphql: section(
      {
        enabled: Type.Boolean({ default: true, description: 'serve POST /graphql (and its subscriptions over WebSocket)' }),
        introspection: Type.Boolean({ default: false, description: 'answer introspection queries and serve GraphiQL at /graphiql' }),
        max_depth: Type.Integer({ default: 8, minimum: 1, maximum: 50, description: 'deepest selection a document may ask for' }),
        max_cost: Type.Integer({ default: 2000, minimum: 1, description: 'each field costs 1, a page or batch of N its fields N times: a document costing more is refused' }),
      },
      'the GraphQL API',
    ),
    shadow: section({ max_in_flight: Type.Integer({ default: 64, minimum: 0, description: 'mirrored requests in flight at most; more are dropped (and counted), never queued' }) }, 'shadow traffic'),
    guard: section(
      {
        mode: Type.Union([Type.Literal('act'), Type.Literal('alert'), Type.Literal('off')], { default: 'act', description: 'the standing guard: act (weight set to 0), alert (reported only) or off' }),
        interval_ms: Type.Integer({ default: 5000, minimum: 100, description: 'how often the guard checks every environment with weight' }),
        consecutive: positive(3, "checks in a row an environment must fail before the guard acts (as an alert rule's for)"),
        window_seconds: Type.Integer({ default: 30, minimum: 1, maximum: 60, description: 'the sliding window each check reads' }),
        min_requests: positive(50, 'requests in the window before the guard concludes anything'),
        max_error_rate: Type.Number({ default: 0.01, minimum: 0, maximum: 1, description: "the seed's 1%" }),
        max_p95_ratio: Type.Number({ default: 1.2, minimum: 1, description: "P95 against the heaviest other environment's (the seed's +20%)" }),
        min_p95_increase_ms: Type.Number({ default: 25, minimum: 0, description: "and at least this much slower, so a busy machine's tail noise does not trip it" }),
      },
      'the standing guard',
    ),
    dns: section(
      {
        servers: Type.Array(Type.String({ minLength: 1 }), { default: [], description: "DNS servers (ip or ip:port) for environments discovered by DNS; empty: the system's resolv.conf" }),
        timeout_ms: Type.Integer({ default: 2000, minimum: 100, maximum: 60_000, description: 'one DNS lookup at most; a failed lookup keeps the replicas last found' }),
      },
      'DNS discovery',
    ),
    state_store: section(
      {
        key_prefix: Type.String({ default: 'sentiment:', minLength: 1, description: 'every key the router writes in the shared state store starts with it (deployments sharing one Redis need different ones)' }),
        router_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:/-]{1,64}$', description: "this router's name in the controller election, the decision trail and GET /admin/config; unset: its host name and process id" })),
      },
      'the shared state store (ROUTER_STATE_STORE_URL)',
    ),
    api_keys_file: Type.Optional(Type.String({ minLength: 1, description: 'a file of API keys, one per line (# comments), read at start; keys from it and from ROUTER_API_KEYS are all accepted' })),
    route_override_allow: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'client IPs allowed to force an environment with X-Route-To (admin-token holders always are)' }),
  },
  { additionalProperties: false },
);
export type RouterSettings = Static<typeof RouterSettings>;

/** What only the environment gives: secrets, and where the file is. */
export const RouterEnv = Type.Object({
  ROUTER_CONFIG_FILE: Type.Optional(Type.String({ minLength: 1, description: "the router's configuration file (YAML; deploy/router.yaml is npm start's); unset: the defaults below, with any ROUTER_* overrides" })),
  ROUTER_ADMIN_TOKEN: Type.String({ minLength: 16, description: 'bearer token for /admin (at least 16 characters)' }),
  ROUTER_READ_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'read-only token: GET on /admin and the dashboard (at least 16 characters)' })),
  ROUTER_METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'when set, GET /metrics needs it as a bearer token' })),
  ROUTER_STATE_STORE_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'the Redis (redis://[:password@]host:port[/db]) that several routers share: the weights in force, rollouts, the decision trail, the controller election, rate-limit counters, the predictions feedback is joined against, the report; unset: this router keeps them to itself (files and memory)' })),
  ROUTER_API_KEYS: Type.Optional(Type.String({ description: 'comma-separated API keys; when set (or api_keys_file), the data path needs X-API-Key' })),
});
export type RouterEnv = Static<typeof RouterEnv>;

export interface RouterConfig {
  host: string;
  port: number;
  grpcPort: number;
  weightsFile: string;
  historyFile?: string;
  rolloutsFile?: string;
  registryFile?: string;
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
  coalesce: { maxBatch: number; maxWaitMs: number; maxInFlight?: number; busyIntervalMs?: number; busyRequests?: number; busyUtilization?: number; lightRequests?: number };
  /** requests 0: no warm-up. */
  warmUp: WarmUpBounds;
  guard: GuardOptions;
  feedback: { memory: number; ttlMs: number; file?: string };
  shadowMaxInFlight: number;
  drift: DriftSettings;
  graphql: { enabled: boolean; introspection: boolean; maxDepth: number; maxCost: number };
  shutdownTimeoutMs: number;
  /** Shared with the other routers through Redis; absent: embedded (this router only). */
  stateStore?: { url: string; prefix: string; routerId?: string };
  /** The settings in force as the file spells them (paths resolved), and where they came from (GET /admin/config). */
  source: RouterConfigSource & { settings: RouterSettings };
}

export interface RouterConfigSource {
  file: string | null;
  /** The ROUTER_* variables that overrode the file. */
  overrides: string[];
  /** ROUTER_* variables that are no setting (a typo, or a setting of another version): logged at start. */
  unknown: string[];
}

/** Every field of the file as [path, schema], depth first (a section's fields, not the section). */
function leaves(schema: TObject, prefix: string[] = []): [string[], TSchema][] {
  return Object.entries(schema.properties).flatMap(([key, s]) => {
    const child = s as TSchema;
    return child.type === 'object' ? leaves(child as TObject, [...prefix, key]) : [[[...prefix, key], child] as [string[], TSchema]];
  });
}

/** The variable that overrides a field: `coalesce.max_batch` → ROUTER_COALESCE_MAX_BATCH. */
export const overrideName = (fieldPath: string[]) => `ROUTER_${fieldPath.join('_').toUpperCase()}`;

/** Every override variable with the field it sets and that field's schema (the README's table). */
export const ROUTER_OVERRIDES: { name: string; field: string; schema: TSchema }[] = leaves(RouterSettings).map(([p, schema]) => ({ name: overrideName(p), field: p.join('.'), schema }));

/**
 * The file's document and the environment → validated settings (defaults filled in). An error
 * names the file and the field, or the variable, at fault.
 */
export function resolveSettings(document: unknown, env: NodeJS.ProcessEnv, fileName = 'the router configuration'): { settings: RouterSettings; overrides: string[] } {
  if (document !== undefined && document !== null && !isRecord(document)) throw new ConfigError(`invalid ${fileName}: /: must be a mapping of settings`);
  const raw = structuredClone((document ?? {}) as Record<string, unknown>);
  const overrides: string[] = [];
  const byPointer = new Map<string, string>();
  for (const { name, field, schema } of ROUTER_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const keys = field.split('.');
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      if (!isRecord(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1)!] = schema.type === 'array' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
    overrides.push(name);
    byPointer.set(`/${keys.join('/')}`, name);
  }
  const converted = Value.Convert(RouterSettings, Value.Default(RouterSettings, raw));
  const first = Value.Errors(RouterSettings, converted).First();
  if (first) {
    const variable = [...byPointer].find(([pointer]) => first.path === pointer || first.path.startsWith(`${pointer}/`))?.[1];
    if (variable) throw new ConfigError(`invalid environment variable ${variable}=${JSON.stringify(env[variable])}: ${first.message}`);
    throw new ConfigError(`invalid ${fileName}: ${first.path || '/'}: ${first.message}`);
  }
  return { settings: converted as RouterSettings, overrides };
}

/** Settings (and secrets) → the shape the app is built from. */
export function routerConfig(settings: RouterSettings, env: RouterEnv, source: RouterConfigSource = { file: null, overrides: [], unknown: [] }): RouterConfig {
  // Paths written in the file are relative to its folder; paths given by a variable, to the working directory.
  const resolvePath = (value: string, variable: string) => (source.file && !source.overrides.includes(variable) ? path.resolve(path.dirname(source.file), value) : path.resolve(value));
  const optionalPath = (value: string | undefined, variable: string) => (value === undefined ? undefined : resolvePath(value, variable));
  const s = settings;
  const weightsFile = resolvePath(s.weights_file, 'ROUTER_WEIGHTS_FILE');
  const historyFile = optionalPath(s.history.file, 'ROUTER_HISTORY_FILE');
  const rolloutsFile = optionalPath(s.rollouts.file, 'ROUTER_ROLLOUTS_FILE');
  const feedbackFile = optionalPath(s.feedback.file, 'ROUTER_FEEDBACK_FILE');
  const registryFile = optionalPath(s.registry.file, 'ROUTER_REGISTRY_FILE');
  const apiKeysFile = optionalPath(s.api_keys_file, 'ROUTER_API_KEYS_FILE');
  // Shown with its paths resolved: which files the router reads is what an operator asks.
  const inForce: RouterSettings = { ...s, weights_file: weightsFile, history: { file: historyFile }, rollouts: { file: rolloutsFile }, registry: { file: registryFile }, feedback: { ...s.feedback, file: feedbackFile }, api_keys_file: apiKeysFile };
  return {
    host: s.host,
    port: s.port,
    grpcPort: s.grpc_port,
    weightsFile,
    historyFile,
    rolloutsFile,
    registryFile,
    adminToken: env.ROUTER_ADMIN_TOKEN,
    readToken: env.ROUTER_READ_TOKEN,
    metricsToken: env.ROUTER_METRICS_TOKEN,
    discovery: { servers: s.dns.servers, timeoutMs: s.dns.timeout_ms },
    logLevel: s.log_level,
    bodyLimit: s.body_limit_bytes,
    timeouts: { connectMs: s.replica.connect_timeout_ms, headersMs: s.replica.headers_timeout_ms, bodyMs: s.replica.body_timeout_ms },
    poolConnections: s.replica.pool_connections,
    health: { intervalMs: s.health.interval_ms, timeoutMs: s.health.timeout_ms, rise: s.health.rise, fall: s.health.fall, ejectAfter: s.eject.after_failures, ejectBaseMs: s.eject.base_ms, ejectMaxMs: s.eject.max_ms },
    retry: { ratio: s.retry_budget.ratio, minPerSecond: s.retry_budget.min_per_second },
    replicaMaxInFlight: s.replica.max_in_flight,
    hedge: { factor: s.hedge.delay_factor, minMs: s.hedge.delay_min_ms, maxMs: Math.max(s.hedge.delay_min_ms, s.hedge.delay_max_ms) },
    rateLimit: { max: s.rate_limit.max, windowMs: s.rate_limit.window_ms },
    apiKeys: { inline: env.ROUTER_API_KEYS, file: apiKeysFile },
    overrideAllow: s.route_override_allow,
    coalesce: { maxBatch: s.coalesce.max_batch, maxWaitMs: s.coalesce.max_wait_ms, maxInFlight: s.coalesce.max_in_flight, busyIntervalMs: s.coalesce.busy_interval_ms, busyRequests: s.coalesce.busy_requests, busyUtilization: s.coalesce.busy_utilization, lightRequests: s.coalesce.light_requests },
    warmUp: { requests: s.warm_up.requests, maxMs: s.warm_up.max_ms },
    guard: { mode: s.guard.mode, intervalMs: s.guard.interval_ms, consecutive: s.guard.consecutive, window_seconds: s.guard.window_seconds, min_requests: s.guard.min_requests, max_error_rate: s.guard.max_error_rate, max_p95_ratio: s.guard.max_p95_ratio, min_p95_increase_ms: s.guard.min_p95_increase_ms, min_feedback: 30 },
    feedback: { memory: s.feedback.memory, ttlMs: s.feedback.ttl_seconds * 1000, file: feedbackFile },
    shadowMaxInFlight: s.shadow.max_in_flight,
    graphql: { enabled: s.graphql.enabled, introspection: s.graphql.introspection, maxDepth: s.graphql.max_depth, maxCost: s.graphql.max_cost },
    drift: { windowRequests: s.drift.window_requests, minRequests: s.drift.min_requests, alpha: s.drift.alpha },
    shutdownTimeoutMs: s.shutdown_timeout_ms,
    stateStore: env.ROUTER_STATE_STORE_URL === undefined ? undefined : { url: env.ROUTER_STATE_STORE_URL, prefix: s.state_store.key_prefix, routerId: s.state_store.router_id },
    source: { ...source, settings: inForce },
  };
}

/** The text of a router configuration file → its document (not yet validated). */
export function parseRouterFile(text: string, fileName: string): unknown {
  try {
    return parseYaml(text, { uniqueKeys: true }) ?? {};
  } catch (err) {
    throw new ConfigError(`invalid ${fileName}: /: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * The router's configuration as the process starts it: the file named by ROUTER_CONFIG_FILE (if
 * any), the ROUTER_* overrides, the secrets. `document` stands in for the file (tests and tools
 * build their configuration through here too).
 */
export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env, document?: unknown): RouterConfig {
  const secrets = readEnv(RouterEnv, env);
  const file = secrets.ROUTER_CONFIG_FILE === undefined ? null : path.resolve(secrets.ROUTER_CONFIG_FILE);
  let doc = document;
  if (file !== null && doc === undefined) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid environment variable ROUTER_CONFIG_FILE=${JSON.stringify(secrets.ROUTER_CONFIG_FILE)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    doc = parseRouterFile(text, file);
  }
  const { settings, overrides } = resolveSettings(doc, env, file ?? undefined);
  const known = new Set([...Object.keys(RouterEnv.properties), ...ROUTER_OVERRIDES.map((o) => o.name)]);
  const unknown = Object.keys(env).filter((name) => name.startsWith('ROUTER_') && !known.has(name)).sort();
  return routerConfig(settings, secrets, { file, overrides, unknown });
}
