// The model registry's shapes: each bundle's stage with the moves that brought it there, and the
// release in progress (npm run release) with its steps. One source for validation, types and the
// OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { ModelBundleView } from '../../../shared/api/deployments.ts';
import { Nullable } from '../../../shared/http/schemas.ts';

export const STAGES = ['candidate', 'staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];
export const Stage = Type.Union([Type.Literal('candidate'), Type.Literal('staging'), Type.Literal('production'), Type.Literal('archived')], { description: 'candidate (built, not released), staging (passed the offline gates, being released), production (serves the traffic; one version per model), archived (kept as a backup, or retired)' });

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });

export const StageMove = Type.Object({
  from: Nullable(Stage),
  to: Stage,
  at: Type.String(),
  by: Type.String({ description: 'who or what moved it: a release (release <id>), or the admin API' }),
  reason: Type.String(),
  release_id: Nullable(Type.String()),
});
export type StageMove = Static<typeof StageMove>;

/** What the registry keeps of one model version (a version never moved is a candidate). */
export const StageRecord = Type.Object({
  model: Type.String(),
  version: Type.String(),
  stage: Stage,
  since: Type.String(),
  moves: Type.Array(StageMove, { description: 'the moves, oldest first (the last 20)' }),
});
export type StageRecord = Static<typeof StageRecord>;

export const StageChange = Type.Object(
  {
    stage: Stage,
    reason: Type.Optional(Type.String({ maxLength: 500, description: 'why (recorded in the trail)' })),
    by: Type.Optional(Type.String({ maxLength: 100, description: 'who or what moves it (default: admin API)' })),
    release_id: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false, examples: [{ stage: 'production', reason: 'passed its release' }] },
);
export type StageChange = Static<typeof StageChange>;

export const StageParams = Type.Object({ model: Name, version: Name });

export const StageChangeResult = Type.Object({ changed: Type.Array(StageRecord, { description: 'the versions whose stage changed: with production, the one it replaced (now archived)' }) });

export const StagesView = Type.Object({ stages: Type.Array(StageRecord) });

/** GET /admin/models: the controller's report of the bundles, each with its stage. */
export const ModelsView = Type.Object({
  models_dir: Type.String(),
  reported_at: Type.String(),
  registry_error: Nullable(Type.String({ description: 'why the stages could not be read (the state store is away): stage is null meanwhile' })),
  models: Type.Array(
    Type.Intersect([
      ModelBundleView,
      Type.Object({
        stage: Nullable(Stage),
        stage_since: Nullable(Type.String()),
        moves: Type.Array(StageMove),
      }),
    ]),
  ),
});
export type ModelsView = Static<typeof ModelsView>;


export const ReleaseStep = Type.Object({
  name: Type.Union([Type.Literal('validate'), Type.Literal('production'), Type.Literal('offline_gates'), Type.Literal('staging'), Type.Literal('deploy'), Type.Literal('shadow'), Type.Literal('rollout'), Type.Literal('promote'), Type.Literal('rollback')]),
  state: Type.Union([Type.Literal('running'), Type.Literal('passed'), Type.Literal('failed')]),
  started_at: Type.String(),
  finished_at: Nullable(Type.String()),
  summary: Type.String(),
  details: Type.Optional(Type.Unknown({ description: "the step's figures (gates, agreement, rollout, decisions)" })),
});
export type ReleaseStep = Static<typeof ReleaseStep>;

const ReleaseState = Type.Union([Type.Literal('running'), Type.Literal('promoted'), Type.Literal('rolled_back'), Type.Literal('refused'), Type.Literal('abandoned')]);
export type ReleaseState = Static<typeof ReleaseState>;

export const ReleaseRecord = Type.Object({
  id: Type.String(),
  model: Type.String(),
  version: Type.String(),
  digest: Type.String({ description: "sha256 of the bundle's manifest.json: a bundle changed since is another release" }),
  environment: Type.String({ description: 'the environment the candidate is deployed to' }),
  state: ReleaseState,
  holder: Type.String({ description: 'the release process running it (host and pid)' }),
  started_at: Type.String(),
  updated_at: Type.String(),
  steps: Type.Array(ReleaseStep),
  outcome: Nullable(Type.String()),
  facts: Type.Record(Type.String(), Type.Unknown(), { description: 'what the release settled and a resumed one reuses: production version, baseline environment, rollout id' }),
});
export type ReleaseRecord = Static<typeof ReleaseRecord>;

export const ReleaseStart = Type.Object(
  {
    model: Name,
    version: Name,
    digest: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    environment: Type.String({ minLength: 1, maxLength: 63 }),
    holder: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type ReleaseStart = Static<typeof ReleaseStart>;

export const ReleaseUpdate = Type.Object(
  {
    id: Type.String({ description: 'the release being updated (another one in progress refuses)' }),
    state: Type.Optional(ReleaseState),
    steps: Type.Optional(Type.Array(ReleaseStep)),
    outcome: Type.Optional(Nullable(Type.String())),
    facts: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type ReleaseUpdate = Static<typeof ReleaseUpdate>;

export const ReleasesView = Type.Object({ current: Nullable(ReleaseRecord), last: Nullable(ReleaseRecord) });
export type ReleasesView = Static<typeof ReleasesView>;

export const ReleaseClaimView = Type.Object({ resumed: Type.Boolean({ description: 'true: the same bundle was being released, and goes on from its steps' }), release: ReleaseRecord });
export type ReleaseClaimView = Static<typeof ReleaseClaimView>;
