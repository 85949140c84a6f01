// What drift monitoring compares: a profile of a stream of predictions — the predicted label mix,
// the confidence and text length (in word pieces) as fixed-bin histograms, and the share of
// unknown word pieces. A bundle records its own on SST dev when it is evaluated (metadata
// `drift_reference`); the router keeps one per environment and version over its recent requests
// (router/src/drift/). Fixed bins make profiles comparable and cheap to keep.
import { Type, type Static } from '@sinclair/typebox';

/** Upper edges of the confidence bins: 20 of 0.05 over [0, 1]. */
export const CONFIDENCE_EDGES = Array.from({ length: 20 }, (_, i) => Math.round((i + 1) * 5) / 100);
/** Upper edges (exclusive) of the length bins, in word pieces with [CLS] and [SEP]; the last is open. */
export const LENGTH_EDGES = [5, 7, 9, 11, 13, 15, 17, 20, 23, 26, 30, 34, 39, 45, 52, 64, 80, 128, Number.POSITIVE_INFINITY];

export function confidenceBin(confidence: number): number {
  return Math.min(CONFIDENCE_EDGES.length - 1, Math.max(0, Math.ceil(confidence * 20) - 1));
}

export function lengthBin(pieces: number): number {
  let i = 0;
  while (pieces >= LENGTH_EDGES[i]) i++;
  return i;
}

export const DriftProfile = Type.Object(
  {
    dataset: Type.String({ description: 'what the profile was taken on, e.g. sst3/dev.tsv' }),
    examples: Type.Integer({ minimum: 1 }),
    labels: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'predicted label → count' }),
    confidence: Type.Array(Type.Integer({ minimum: 0 }), { minItems: CONFIDENCE_EDGES.length, maxItems: CONFIDENCE_EDGES.length, description: 'counts per confidence bin of 0.05' }),
    length: Type.Array(Type.Integer({ minimum: 0 }), { minItems: LENGTH_EDGES.length, maxItems: LENGTH_EDGES.length, description: 'counts per text length bin, in word pieces' }),
    pieces: Type.Integer({ minimum: 0 }),
    unknown_pieces: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type DriftProfile = Static<typeof DriftProfile>;

/** Accumulates a profile, one prediction at a time. */
export class ProfileBuilder {
  private readonly labels = new Map<string, number>();
  private readonly confidence = new Array<number>(CONFIDENCE_EDGES.length).fill(0);
  private readonly length = new Array<number>(LENGTH_EDGES.length).fill(0);
  private pieces = 0;
  private unknown = 0;
  private examples = 0;

  constructor(private readonly dataset: string) {}

  add(label: string, confidence: number, pieces: number, unknownPieces: number): void {
    this.examples++;
    this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
    this.confidence[confidenceBin(confidence)]++;
    this.length[lengthBin(pieces)]++;
    this.pieces += pieces;
    this.unknown += unknownPieces;
  }

  build(): DriftProfile {
    return { dataset: this.dataset, examples: this.examples, labels: Object.fromEntries(this.labels), confidence: [...this.confidence], length: [...this.length], pieces: this.pieces, unknown_pieces: this.unknown };
  }
}
