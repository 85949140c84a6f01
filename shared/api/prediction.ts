// The inference service's prediction API as both sides know it: the service validates and
// documents its routes with these schemas, and the router reads answers (a batch split into
// single answers when it coalesces, the confidence for its stats) through the helpers here.
// Built from the configured limits, the schemas are the one source of validation, types and OpenAPI.
import { Type, type Static } from '@sinclair/typebox';
import { NON_BLANK_PATTERN } from '../http/schemas.ts';

export interface TextLimits {
  textLength: number;
  batchTexts: number;
}

/** The service's limits unless configured otherwise (MAX_TEXT_LENGTH, MAX_BATCH_TEXTS). */
export const DEFAULT_TEXT_LIMITS: TextLimits = { textLength: 5000, batchTexts: 64 };

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
  // Optional: replicas of other implementations (or older ones, during a rolling update) may not say.
  pieces: Type.Optional(Type.Integer({ description: "word pieces the model's tokenizer made of the text (special tokens included, before truncation to the model's length)" })),
  unknown_pieces: Type.Optional(Type.Integer({ description: 'how many of them its vocabulary does not know: a high share means text unlike what it was trained on (drift monitoring compares it)' })),
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

export const PREDICT_PATH = '/predict';
export const BATCH_PATH = '/predict/batch';

/** The /predict answer for each prediction of a batch answer, in order (fields as /predict orders them). */
export function singleAnswers(batch: BatchResponse): PredictResponse[] {
  const { model_version, latency_ms } = batch;
  // In the service's own order: the prediction's fields (any a replica adds included), then the
  // model version and latency, the optional word-piece counts last. Built field by field: the
  // router does this for every coalesced answer, and object rest and spread cost several times more.
  // (A "__proto__" field would set the object's prototype when assigned: it is left out.)
  return batch.predictions.map((p) => {
    const single: Record<string, unknown> = {};
    for (const key in p) if (key !== 'pieces' && key !== 'unknown_pieces' && key !== '__proto__') single[key] = p[key as keyof typeof p];
    single.model_version = model_version;
    single.latency_ms = latency_ms;
    if (p.pieces !== undefined) single.pieces = p.pieces;
    if (p.unknown_pieces !== undefined) single.unknown_pieces = p.unknown_pieces;
    return single as PredictResponse;
  });
}

/** The summary of a /predict answer the router holds as an object (a coalesced one). */
export function summaryOf(answer: PredictResponse): AnswerSummary {
  return { label: answer.sentiment, confidence: answer.confidence, pieces: answer.pieces ?? null, unknownPieces: answer.unknown_pieces ?? null };
}

/**
 * The label and confidence of a /predict answer, read from its bytes without parsing the whole
 * body: the router does this for every answer it passes on (stats, the experiment's label mix,
 * feedback). A batch or v2 answer has no top-level pair: null.
 */
export interface AnswerSummary {
  label: string | null;
  confidence: number;
  /** The text's word pieces and the unknown ones (null from a replica that does not say). */
  pieces: number | null;
  unknownPieces: number | null;
}

export function answerSummary(body: Buffer): AnswerSummary | null {
  const c = body.indexOf('"confidence":');
  if (c < 0) return null;
  const confidence = parseFloat(body.toString('latin1', c + 13, c + 40));
  if (!Number.isFinite(confidence)) return null;
  const s = body.indexOf('"sentiment":"');
  const end = s < 0 ? -1 : body.indexOf('"', s + 13);
  return { label: end < 0 ? null : body.toString('utf8', s + 13, end), confidence, pieces: integerAfter(body, '"pieces":'), unknownPieces: integerAfter(body, '"unknown_pieces":') };
}

function integerAfter(body: Buffer, key: string): number | null {
  const at = body.indexOf(key);
  if (at < 0) return null;
  const n = parseInt(body.toString('latin1', at + key.length, at + key.length + 12), 10);
  return Number.isFinite(n) ? n : null;
}
