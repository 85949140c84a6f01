// deploy/local.yaml: the desired state of the local deployment. The router and services sections
// are read at start; the environments (which model version, how many replicas, autoscaling) are
// reconciled live as the file changes. TypeBox is the one source of validation and types.
import { Type, type Static, type TNumber, type TOptional } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse, parseDocument } from 'yaml';
import { ENV_NAME_PATTERN } from '../../router/index.ts';
import { ConfigError } from '../../shared/errors.ts';

const NAME = '^[A-Za-z0-9._-]{1,64}$';
export const DEFAULT_TARGET_CPU_PERCENT = 70;

export const Autoscale = Type.Object(
  {
    min: Type.Integer({ minimum: 0, maximum: 32 }),
    max: Type.Integer({ minimum: 1, maximum: 32 }),
    target_cpu_percent: Type.Optional(Type.Number({ minimum: 1, maximum: 100, default: DEFAULT_TARGET_CPU_PERCENT, description: 'average CPU utilization per replica to hold, in percent of one core (the seed\'s 70 by default)' })),
  },
  { additionalProperties: false },
);
export type Autoscale = Static<typeof Autoscale>;

export const EnvironmentDeployment = Type.Object(
  {
    model: Type.String({ pattern: NAME, description: 'a bundle folder under models_dir' }),
    version: Type.String({ pattern: NAME, description: 'the bundle version: models_dir/<model>/<version>' }),
    replicas: Type.Integer({ minimum: 0, maximum: 32, description: 'replicas to run (the starting point when autoscale is set)' }),
    autoscale: Type.Optional(Autoscale),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "this environment's replica settings, over services.env (a model's thread and batching settings); a change rolls its replicas" })),
  },
  { additionalProperties: false },
);
export type EnvironmentDeployment = Static<typeof EnvironmentDeployment>;

interface Setting {
  integer?: boolean;
  minimum: number;
  maximum: number;
  default: number;
  description: string;
}

/** An optional section of numeric settings, each optional: one source for its schema and its defaults. */
function settings<K extends string>(fields: Record<K, Setting>) {
  const entries = Object.entries(fields) as [K, Setting][];
  const properties = Object.fromEntries(entries.map(([k, { integer, ...f }]) => [k, Type.Optional(integer ? Type.Integer(f) : Type.Number(f))])) as Record<K, TOptional<TNumber>>;
  return {
    schema: Type.Optional(Type.Object(properties, { additionalProperties: false })),
    defaults: Object.fromEntries(entries.map(([k, f]) => [k, f.default])) as Record<K, number>,
  };
}

// How a rolling update goes (the launcher's *update*; a *rollout* is the router's traffic shift).
const Update = settings({
  max_surge: { integer: true, minimum: 0, maximum: 32, default: 1, description: 'replicas above the desired count during an update' },
  max_unavailable: { integer: true, minimum: 0, maximum: 32, default: 0, description: 'ready replicas below the desired count during an update' },
  ready_timeout_seconds: { minimum: 1, maximum: 600, default: 60, description: 'a new replica not ready and answering by then fails the update' },
});

const Autoscaling = settings({
  interval_seconds: { minimum: 1, maximum: 300, default: 5, description: 'how often utilization is measured and a decision made' },
  tolerance: { minimum: 0, maximum: 1, default: 0.1, description: 'no change while utilization / target is within 1 ± this' },
  scale_down_stabilization_seconds: { minimum: 0, maximum: 3600, default: 60, description: 'how long load must stay low before replicas are removed' },
});

export const Deployment = Type.Object(
  {
    router: Type.Object(
      {
        host: Type.String(),
        port: Type.Integer({ minimum: 0, maximum: 65535, description: '0: an ephemeral port, shown in the banner' }),
        grpc_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: "the Open Inference Protocol's gRPC listener; 0 or absent: an ephemeral port, shown in the banner" })),
        weights_file: Type.String(),
        instances: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'routers to run (default 1), each on port + 2i and grpc_port + 2i; with more than one they share a state store' })),
        state_store: Type.Optional(Type.String({ pattern: '^rediss?://', description: "the Redis the routers share (ROUTER_STATE_STORE_URL); with instances > 1 and none named, npm start runs Debian's redis-server itself, its data under the run folder" })),
        config_file: Type.Optional(Type.String({ minLength: 1, description: "the router's own settings (health, retries, hedging, guard, limits, coalescing): ROUTER_CONFIG_FILE" })),
        env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'ROUTER_* overrides of the config file' })),
      },
      { additionalProperties: false },
    ),
    services: Type.Object(
      {
        host: Type.String(),
        first_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65000, description: 'replicas take free ports from here up; 0 or absent: ephemeral ports' })),
        models_dir: Type.String(),
        nice: Type.Optional(Type.Integer({ minimum: 0, maximum: 19, description: 'scheduling niceness of every replica process' })),
        env: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    update: Update.schema,
    autoscaling: Autoscaling.schema,
    environments: Type.Record(Type.String({ pattern: ENV_NAME_PATTERN }), EnvironmentDeployment, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type Deployment = Static<typeof Deployment>;

export const UPDATE_DEFAULTS = Update.defaults;
export const AUTOSCALING_DEFAULTS = Autoscaling.defaults;

/** An invalid deployment file (ERR_CONFIG_INVALID), with the path of the field at fault. */
const deploymentError = (path: string, message: string) => Object.assign(new ConfigError(`${path}: ${message}`), { path });

export function parseDeployment(text: string): Deployment {
  let data: unknown;
  try {
    data = parse(text, { uniqueKeys: true });
  } catch (err) {
    throw deploymentError('/', `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const error = Value.Errors(Deployment, data).First();
  if (error) throw deploymentError(error.path || '/', error.message);
  const deployment = data as Deployment;
  const update = { ...UPDATE_DEFAULTS, ...deployment.update };
  if (update.max_surge === 0 && update.max_unavailable === 0) throw deploymentError('/update', 'max_surge and max_unavailable cannot both be 0: no update could progress');
  for (const [name, e] of Object.entries(deployment.environments)) {
    if (e.autoscale && e.autoscale.min > e.autoscale.max) throw deploymentError(`/environments/${name}/autoscale`, `min (${e.autoscale.min}) is above max (${e.autoscale.max})`);
  }
  return deployment;
}

/** The file's text with one environment's fields set, keeping everything else as the user wrote it. */
export function withEnvironment(text: string, name: string, fields: Partial<EnvironmentDeployment>): string {
  const doc = parseDocument(text);
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) doc.setIn(['environments', name, key], value);
  return doc.toString();
}
