// The bandit API's shapes: one source for validation, types and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../../../shared/http/schemas.ts';
import { ControllerView } from '../state/leader.ts';
import { ENV_NAME_PATTERN } from '../weights/schema.ts';

export const BanditRequest = Type.Object(
  {
    arms: Type.Array(Type.String({ pattern: ENV_NAME_PATTERN }), { minItems: 2, maxItems: 10, uniqueItems: true, description: 'the environments whose weights the bandit sets; the others keep theirs' }),
    floor_percent: Type.Optional(Type.Number({ minimum: 0, maximum: 50, default: 5, description: "every arm keeps at least this share of the arms' traffic, so it keeps learning" })),
    cap_percent: Type.Optional(Type.Number({ minimum: 10, maximum: 100, default: 90, description: "no arm gets more than this share of the arms' traffic" })),
    interval_seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400, default: 10, description: 'time between updates of the weights' })),
    min_feedback: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 20, description: 'labels every arm needs (since the bandit started) before the first update' })),
    min_change_percent: Type.Optional(Type.Number({ minimum: 0, maximum: 50, default: 0.5, description: "an update that moves no arm by this many percent of the arms' combined weight changes nothing" })),
    draws: Type.Optional(Type.Integer({ minimum: 100, maximum: 100_000, default: 10_000, description: "posterior draws per update (the estimate of each arm's chance of being the best)" })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'seeds the draws: the same feedback gives the same weights (reproducible runs)' })),
  },
  { additionalProperties: false, examples: [{ arms: ['blue', 'green', 'canary'], floor_percent: 5, interval_seconds: 10 }] },
);
export type BanditRequest = Static<typeof BanditRequest>;

export const BanditArm = Type.Object({
  environment: Type.String(),
  feedback: Type.Integer({ description: 'labels since the bandit started' }),
  correct: Type.Integer(),
  posterior_mean: Type.Number({ description: 'Beta(1 + correct, 1 + wrong) mean' }),
  ci95: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: 'central 95% of the posterior' }),
  p_best: Type.Number({ description: 'chance of being the most accurate arm' }),
  weight: Type.Number({ description: 'the weight the update gave it' }),
});
export type BanditArm = Static<typeof BanditArm>;

export const BanditView = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('running'), Type.Literal('paused'), Type.Literal('stopped')]),
  arms: Type.Array(Type.String()),
  excluded: Type.Array(Type.Object({ environment: Type.String(), reason: Type.String() }), { description: 'arms taken out (by the guard, an admin change or a removal): the bandit gives them no weight again' }),
  floor_percent: Type.Number(),
  cap_percent: Type.Number(),
  interval_seconds: Type.Number(),
  min_feedback: Type.Integer(),
  min_change_percent: Type.Number(),
  draws: Type.Integer(),
  seed: Nullable(Type.Integer()),
  share: Type.Number({ description: "the arms' combined weight, which the bandit divides" }),
  weights_before: Type.Record(Type.String(), Type.Number()),
  started_at: Type.String(),
  updated_at: Type.String(),
  updates: Type.Integer({ description: 'weight changes made' }),
  message: Type.String(),
  last_update: Nullable(Type.Object({ at: Type.String(), arms: Type.Array(BanditArm) })),
});
export type BanditView = Static<typeof BanditView>;

export const BanditsView = Type.Object({ bandit: Nullable(BanditView), controller: ControllerView });
export type BanditsView = Static<typeof BanditsView>;
