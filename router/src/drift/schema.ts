// GET /admin/drift's shape: one source for validation, types and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../../../shared/http/schemas.ts';

export const DriftTest = Type.Object({
  name: Type.String({ description: 'label_mix, confidence, length or unknown_pieces' }),
  against: Type.Union([Type.Literal('reference'), Type.Literal('control')], { description: "the bundle's own profile on SST dev, or the control arm's window" }),
  method: Type.String(),
  statistic: Type.Number({ description: 'chi-squared; KS distance D; for unknown pieces the ratio of the two rates' }),
  p_value: Type.Number(),
  threshold: Type.Number({ description: "the environment's α divided by its number of tests (Bonferroni): drift below it" }),
  passed: Type.Boolean(),
  window: Type.Integer({ description: 'predictions in the window tested' }),
  compared_with: Type.Integer({ description: "predictions in what it was compared with (the reference's, or the control window's)" }),
});

export const DriftView = Type.Object({
  window_requests: Type.Integer({ description: 'each environment and version is tested on its last this many predictions' }),
  min_requests: Type.Integer(),
  alpha: Type.Number({ description: 'per environment and look: the chance of flagging drift that is not there' }),
  control: Nullable(Type.String({ description: 'the control arm: the heaviest weighted environment' })),
  environments: Type.Array(
    Type.Object({
      environment: Type.String(),
      model_version: Type.String(),
      requests: Type.Integer({ description: 'predictions in its window' }),
      reference: Nullable(Type.String()),
      drifted: Type.Boolean(),
      tests: Type.Array(DriftTest),
      note: Nullable(Type.String()),
    }),
  ),
});
export type DriftView = Static<typeof DriftView>;
