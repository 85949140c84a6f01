// The feedback API and the A/B report: one source for validation, types and OpenAPI.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../../../shared/http/schemas.ts';

export const FeedbackBody = Type.Object(
  {
    request_id: Type.String({ minLength: 1, maxLength: 128, description: 'the X-Request-Id of the prediction' }),
    label: Type.String({ minLength: 1, maxLength: 64, description: 'the true label' }),
  },
  { additionalProperties: false, examples: [{ request_id: '5d0c5e0e-…', label: 'positive' }] },
);
export type FeedbackBody = Static<typeof FeedbackBody>;

export const SequentialComparisonView = Type.Object({
  baseline: Type.String(),
  difference: Type.Number({ description: "this version's online accuracy minus the baseline's" }),
  p_value: Type.Number({ description: 'always valid (mixture SPRT): may be read at every step' }),
  alpha: Type.Number({ description: 'the chance, over the whole experiment, of calling a difference that is not there' }),
  decision: Type.Union([Type.Literal('better'), Type.Literal('worse'), Type.Literal('inconclusive')]),
  more_feedback_needed: Nullable(Type.Integer({ description: 'inconclusive: about how many more labels (both sides, at the current split) a decision needs if the difference holds; null when decided or beyond 1,000× today’s labels' })),
  more_seconds_needed: Nullable(Type.Integer({ description: 'the same, at the current rate of labels' })),
  assumed_difference: Nullable(Type.Number({ description: 'the difference the estimate assumes: the observed one, or 0.03 (the smallest worth finding) when the observed is smaller' })),
});

export const ExperimentReport = Type.Object({
  started_at: Type.String(),
  baseline: Nullable(Type.String()),
  versions: Type.Array(
    Type.Object({
      environment: Type.String(),
      model_version: Type.String(),
      requests: Type.Integer(),
      error_rate: Type.Number(),
      p50_ms: Nullable(Type.Number()),
      p95_ms: Nullable(Type.Number()),
      p99_ms: Nullable(Type.Number()),
      mean_confidence: Nullable(Type.Number({ description: 'a proxy only' })),
      label_distribution: Type.Record(Type.String(), Type.Number()),
      online_accuracy: Type.Object({ feedback: Type.Integer(), correct: Type.Integer(), accuracy: Nullable(Type.Number()), ci95: Nullable(Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: 'Wilson 95% interval: [low, high]' })) }),
      vs_baseline: Nullable(SequentialComparisonView),
      drift: Type.Optional(Nullable(Type.Object({ drifted: Type.Boolean(), failed: Type.Array(Type.String()) }, { description: 'GET /admin/drift for this version: null until its window holds drift.min_requests predictions' }))),
      recommendation: Type.Object({ action: Type.Union([Type.Literal('promote'), Type.Literal('keep'), Type.Literal('roll_back')]), reasons: Type.Array(Type.String()) }),
    }),
  ),
  shadows: Type.Array(
    Type.Object({
      environment: Type.String(),
      model_version: Type.String(),
      compared: Type.Integer({ description: 'mirrored requests answered and compared' }),
      failed: Type.Integer(),
      dropped: Type.Integer({ description: 'mirrors not sent because too many were in flight' }),
      label_agreement: Nullable(Type.Number({ description: "share of mirrored predictions with the primary's label" })),
      mean_confidence_delta: Nullable(Type.Number({ description: "shadow minus primary" })),
      mean_latency_delta_ms: Nullable(Type.Number({ description: 'shadow minus primary' })),
    }),
  ),
  note: Type.String(),
});
export type ExperimentReport = Static<typeof ExperimentReport>;
