import { Type } from '@sinclair/typebox';
import { RouterSettings } from '../config.ts';
import { ControllerView } from '../state/leader.ts';
import { ENV_NAME_PATTERN, REPLICA_URL_PATTERN } from '../weights/schema.ts';

export const EnvironmentView = Type.Object({
  name: Type.String(),
  weight: Type.Number(),
  share: Type.Number({ description: 'fraction of traffic it gets now, over healthy environments' }),
  model_versions: Type.Array(Type.String(), { description: 'the versions its available replicas serve (two during a rolling update)' }),
  backup: Type.Boolean(),
  shadow: Type.Number({ description: 'percent of /predict requests mirrored here (0: none)' }),
  coalesce: Type.Boolean({ description: 'whether its /predict requests join coalesced batches when the router coalesces (the weights file\'s coalesce, default true)' }),
  healthy_replicas: Type.Integer(),
  replicas: Type.Integer(),
});

export const ConfigView = Type.Object({
  file: Type.String(),
  weights_kept_in: Type.Union([Type.Literal('file'), Type.Literal('store')], { description: 'file: changes are written to the weights file (one router); store: the file is the spec and changes are live state shared by every router' }),
  generation: Type.Integer({ description: 'counts the changes of the weights in force (with a state store: the same on every router)' }),
  loaded_at: Type.String(),
  assignment: Type.Object({ header: Type.Optional(Type.String()), cookie: Type.Optional(Type.String()) }),
  environments: Type.Array(EnvironmentView),
  last_reload: Type.Object({
    ok: Type.Boolean(),
    last_success_at: Type.String(),
    failure: Type.Union([Type.Null(), Type.Object({ path: Type.String(), message: Type.String(), at: Type.String() })]),
  }),
  controller: ControllerView,
  router: Type.Object(
    {
      file: Type.Union([Type.String(), Type.Null()], { description: 'ROUTER_CONFIG_FILE, or null when the router runs on its defaults' }),
      overrides: Type.Array(Type.String(), { description: 'the ROUTER_* variables that override the file' }),
      settings: RouterSettings,
    },
    { description: 'how the router behaves, as read at start (secrets are never shown)' },
  ),
});

export const ReplicaView = Type.Object({
  environment: Type.String(),
  url: Type.String(),
  model: Type.Union([Type.String(), Type.Null()], { description: 'as the replica reports it (null until its first check)' }),
  model_version: Type.Union([Type.String(), Type.Null()]),
  source: Type.String(),
  healthy: Type.Boolean(),
  available: Type.Boolean(),
  in_flight: Type.Integer(),
  concurrency: Type.Integer({ description: 'batches the replica runs side by side, as its /info says (1 until it says)' }),
  ejected_until: Type.Union([Type.Null(), Type.String()]),
  ejections: Type.Integer(),
  last_check_error: Type.Union([Type.Null(), Type.String()]),
});

export const ReplicaBody = Type.Object(
  {
    environment: Type.String({ pattern: ENV_NAME_PATTERN }),
    url: Type.String({ pattern: REPLICA_URL_PATTERN }),
  },
  { additionalProperties: false, examples: [{ environment: 'green', url: 'http://127.0.0.1:8011' }] },
);

// Query strings are not type-coerced (validation is strict everywhere), so the number is a pattern.
export const StatsQuery = Type.Object({ window: Type.Optional(Type.String({ pattern: '^([1-9]|[1-5][0-9]|60)$', description: 'seconds, 1 to 60 (default 60)' })) }, { additionalProperties: false });

const WindowStatsView = Type.Object({
  requests: Type.Integer(),
  rps: Type.Number(),
  error_rate: Type.Number(),
  p50_ms: Type.Union([Type.Number(), Type.Null()]),
  p95_ms: Type.Union([Type.Number(), Type.Null()]),
  p99_ms: Type.Union([Type.Number(), Type.Null()]),
  mean_confidence: Type.Union([Type.Number(), Type.Null()]),
});

export const StatsView = Type.Object({
  window_seconds: Type.Integer(),
  environments: Type.Record(
    Type.String(),
    Type.Composite([WindowStatsView, Type.Object({ by_version: Type.Record(Type.String(), WindowStatsView, { description: 'the same, per model version that answered in the window' }) })]),
  ),
});

export const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'entries, 1 to 1000 (default 100)' })),
    environment: Type.Optional(Type.String({ pattern: ENV_NAME_PATTERN })),
    kind: Type.Optional(Type.Union(['weights', 'rollout', 'analysis', 'guard', 'bandit', 'stage', 'release'].map((k) => Type.Literal(k)))),
  },
  { additionalProperties: false },
);

export const ReportQuery = Type.Object({ baseline: Type.Optional(Type.String({ pattern: ENV_NAME_PATTERN, description: 'the environment the others are compared with (default: the one that answered the most)' })) }, { additionalProperties: false });
