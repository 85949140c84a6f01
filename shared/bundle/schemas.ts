// TypeBox schemas for the JSON files of a bundle (only the fields this project reads; the rest of a
// Hugging Face config is allowed and ignored).
import { Type, type Static } from '@sinclair/typebox';

export const ModelConfigFile = Type.Object(
  {
    id2label: Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.String({ minLength: 1 }), { minProperties: 1 }),
    max_position_embeddings: Type.Optional(Type.Integer({ minimum: 1 })),
    model_type: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type ModelConfigFile = Static<typeof ModelConfigFile>;

export const TokenizerConfigFile = Type.Object(
  {
    model_max_length: Type.Optional(Type.Number({ minimum: 1 })),
    pad_token: Type.Optional(Type.String()),
    unk_token: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type TokenizerConfigFile = Static<typeof TokenizerConfigFile>;

export const TokenizerFile = Type.Object(
  {
    model: Type.Object({ type: Type.Optional(Type.String()), vocab: Type.Unknown() }, { additionalProperties: true }),
    truncation: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type TokenizerFile = Static<typeof TokenizerFile>;

export const EvaluationResult = Type.Object({
  dataset: Type.String(),
  examples: Type.Integer(),
  accuracy: Type.Number(),
  macro_f1: Type.Number(),
  recall: Type.Record(Type.String(), Type.Number()),
  evaluated_at: Type.String(),
});
export type EvaluationResult = Static<typeof EvaluationResult>;

export const BundleMetadata = Type.Object(
  {
    name: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    architecture: Type.Optional(Type.String()),
    training_data: Type.Optional(Type.Unknown()),
    training_date: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer()),
    trainer_settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metrics: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    lineage: Type.Optional(Type.Unknown({ description: 'shared/bundle/lineage.ts: training data hash, code commit, parent version' })),
  },
  { additionalProperties: true },
);
export type BundleMetadata = Static<typeof BundleMetadata>;
