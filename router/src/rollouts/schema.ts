// The rollout API's shapes: one source for validation, types and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { DecisionRecord } from '../history/schema.ts';
import { ControllerView } from '../state/leader.ts';
import { ENV_NAME_PATTERN } from '../weights/schema.ts';

export const AnalysisOptions = Type.Object(
  {
    window_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, description: 'seconds of traffic analysed (default 30, at most the time since the step)' })),
    min_requests: Type.Optional(Type.Integer({ minimum: 1, description: 'requests the window must hold to conclude (default 50)' })),
    max_error_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'fails above this (default 0.01)' })),
    max_p95_ratio: Type.Optional(Type.Number({ minimum: 1, description: "fails when P95 exceeds the baseline's by this factor (default 1.2)..." })),
    min_p95_increase_ms: Type.Optional(Type.Number({ minimum: 0, description: '...and by at least this many ms (default 25)' })),
    min_feedback: Type.Optional(Type.Integer({ minimum: 1, description: 'feedback labels each side needs before online accuracy is compared (default 30); found less accurate than the baseline by the sequential test fails' })),
    drift: Type.Optional(Type.Boolean({ description: 'also fail a step when drift monitoring flags the target (GET /admin/drift; default false)' })),
    max_wait_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800, description: 'how long a step waits for its sample after its pause (default 600): then the rollout pauses with the reason; resume waits again, abort undoes it' })),
  },
  { additionalProperties: false },
);

export const RolloutRequest = Type.Object(
  {
    target: Type.String({ pattern: ENV_NAME_PATTERN, description: 'the environment traffic moves to' }),
    baseline: Type.Optional(Type.String({ pattern: ENV_NAME_PATTERN, description: 'the environment traffic moves from (default: the heaviest other one)' })),
    steps: Type.Optional(Type.Array(Type.Number({ minimum: 0.1, maximum: 100 }), { minItems: 1, maxItems: 20, default: [25, 50, 75, 100], description: "percent of the pair's traffic on the target at each step; [100] is a blue-green cutover" })),
    pause_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400, default: 30, description: 'time at each step before its analysis' })),
    analysis: Type.Optional(Type.Union([AnalysisOptions, Type.Literal(false)], { description: 'what each step must pass (false: none)' })),
    keep_backup: Type.Optional(Type.Boolean({ default: true, description: 'after the last step, keep the baseline as a backup (weight 0)' })),
  },
  { additionalProperties: false, examples: [{ target: 'green', baseline: 'blue', steps: [25, 50, 75, 100], pause_seconds: 30 }] },
);
export type RolloutRequest = Static<typeof RolloutRequest>;

export const RolloutView = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('progressing'), Type.Literal('paused'), Type.Literal('completed'), Type.Literal('aborted'), Type.Literal('failed')]),
  target: Type.String(),
  baseline: Type.String(),
  steps: Type.Array(Type.Number()),
  step_index: Type.Integer(),
  step_percent: Type.Number(),
  phase: Type.Union([Type.Literal('pausing'), Type.Literal('analyzing'), Type.Literal('done')]),
  pause_seconds: Type.Number(),
  keep_backup: Type.Boolean(),
  weights_before: Type.Record(Type.String(), Type.Number()),
  started_at: Type.String(),
  updated_at: Type.String(),
  message: Type.String(),
  last_analysis: Type.Union([Type.Null(), Type.Object({ at: Type.String(), verdict: Type.String(), summary: Type.String(), checks: Type.Array(DecisionRecord) })]),
});
export type RolloutView = Static<typeof RolloutView>;

export const RolloutsView = Type.Object({ current: Type.Union([RolloutView, Type.Null()]), last: Type.Union([RolloutView, Type.Null()]), controller: ControllerView });
