// TypeBox schemas for /predict and /predict/batch. Built from the configured limits, they are the
// one source of validation, TypeScript types and OpenAPI.
import { Type, type Static } from '@sinclair/typebox';
import { NON_BLANK_PATTERN } from '../../../../shared/http/schemas.ts';

export interface TextLimits {
  textLength: number;
  batchTexts: number;
}

export const textSchema = (limits: TextLimits) =>
  Type.String({ minLength: 1, maxLength: limits.textLength, pattern: NON_BLANK_PATTERN, description: 'text to classify' });

export const predictBody = (limits: TextLimits) =>
  Type.Object({ text: textSchema(limits) }, { additionalProperties: false, examples: [{ text: 'a gripping , beautifully acted film' }] });

export const batchBody = (limits: TextLimits) =>
  Type.Object(
    { texts: Type.Array(textSchema(limits), { minItems: 1, maxItems: limits.batchTexts }) },
    { additionalProperties: false, examples: [{ texts: ['a triumph', 'a dull , lifeless mess'] }] },
  );

export const Probabilities = Type.Record(Type.String(), Type.Number(), { description: 'probability per label' });

const predictionFields = {
  text: Type.String(),
  sentiment: Type.String({ description: 'the most probable label' }),
  confidence: Type.Number({ description: 'probability of that label' }),
  probabilities: Probabilities,
};

export const PredictResponse = Type.Object({
  ...predictionFields,
  model_version: Type.String(),
  latency_ms: Type.Number({ description: 'time spent in this service' }),
});
export type PredictResponse = Static<typeof PredictResponse>;

export const BatchResponse = Type.Object({
  predictions: Type.Array(Type.Object(predictionFields)),
  count: Type.Integer(),
  latency_ms: Type.Number(),
  model_version: Type.String(),
});
export type BatchResponse = Static<typeof BatchResponse>;
