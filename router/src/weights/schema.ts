// The weights file (deploy/weights.yaml): what users edit to split traffic. TypeBox is the one
// source of validation, types and the admin API's OpenAPI.
import { Type, type Static } from '@sinclair/typebox';

export const ENV_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
export const REPLICA_URL_PATTERN = '^https?://[^\\s/]+(:[0-9]+)?/?$';

export const DiscoverySpec = Type.Object(
  {
    dns: Type.String({ pattern: '^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\\.?$', description: "a DNS name whose A/AAAA records are the replicas, e.g. a Kubernetes headless Service's sentiment-green.sentiment.svc.cluster.local" }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "the replicas' port" }),
    interval_seconds: Type.Optional(Type.Number({ minimum: 0.1, maximum: 3600, default: 5, description: 'how often the name is resolved again' })),
  },
  { additionalProperties: false },
);
export type DiscoverySpec = Static<typeof DiscoverySpec>;

export const EnvironmentSpec = Type.Object(
  {
    weight: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'share of traffic, normalized over healthy environments; 0 takes it out of rotation' }),
    replicas: Type.Optional(Type.Array(Type.String({ pattern: REPLICA_URL_PATTERN }), { maxItems: 256, description: 'static replica base URLs (replicas can also register through the admin API)' })),
    discovery: Type.Optional(DiscoverySpec),
    backup: Type.Optional(Type.Boolean({ description: 'gets traffic only when every weighted environment is down' })),
    shadow: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: "percent of /predict requests mirrored here: its answers are compared with the primary's and never reach clients" })),
    coalesce: Type.Optional(Type.Boolean({ default: true, description: "false sends this environment's /predict requests one by one even when the router coalesces (its coalesce.max_batch): for a model whose batch takes tens of milliseconds, where the replica batches well by itself and a coalesced request waits for a whole batch to come back" })),
  },
  { additionalProperties: false },
);
export type EnvironmentSpec = Static<typeof EnvironmentSpec>;

export const AssignmentSpec = Type.Object(
  {
    header: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', description: 'request header carrying a user key, e.g. X-User-Id' })),
    cookie: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'cookie carrying a user key' })),
  },
  { additionalProperties: false },
);

export const WeightsFile = Type.Object(
  {
    environments: Type.Record(Type.String({ pattern: ENV_NAME_PATTERN }), EnvironmentSpec, { minProperties: 1, additionalProperties: false }),
    assignment: Type.Optional(AssignmentSpec),
  },
  { additionalProperties: false },
);
export type WeightsFile = Static<typeof WeightsFile>;

/** PUT /admin/weights: new weights for some or all environments (and which are backups). */
export const WeightsUpdate = Type.Object(
  {
    weights: Type.Record(Type.String({ pattern: ENV_NAME_PATTERN }), Type.Number({ minimum: 0, maximum: 1_000_000 }), { minProperties: 1, additionalProperties: false }),
    backup: Type.Optional(Type.Record(Type.String({ pattern: ENV_NAME_PATTERN }), Type.Boolean(), { additionalProperties: false, description: 'environments to mark as backups (true) or not (false)' })),
    shadow: Type.Optional(Type.Record(Type.String({ pattern: ENV_NAME_PATTERN }), Type.Number({ minimum: 0, maximum: 100 }), { additionalProperties: false, description: "percent of /predict requests mirrored to each named environment (0 stops it): its answers are compared with the primary's and never reach clients" })),
  },
  { additionalProperties: false, examples: [{ weights: { blue: 50, green: 45, canary: 5 } }] },
);
export type WeightsUpdate = Static<typeof WeightsUpdate>;
