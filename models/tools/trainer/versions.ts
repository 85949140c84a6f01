// The shipped bag-of-embeddings versions of the built-in sentiment model (2.0.0, the transformer,
// comes from npm run train:transformer). Settings were picked on sst3/dev.tsv; test.tsv is only
// ever used for the final report.
import type { TrainSettings } from './train.ts';

export interface VersionSpec {
  version: string;
  description: string;
  /** The version it was derived from (its lineage's parent), if any. */
  parent?: string;
  settings: TrainSettings;
}

const common = {
  minWordCount: 2,
  maxWords: 30_000,
  suffixPieces: 2000,
  maxLength: 128,
  seed: 20261127,
  calibrateNeutral: true,
} as const;

export const VERSIONS: VersionSpec[] = [
  {
    version: '1.0.0',
    description: 'Bag of word-piece embeddings: mean-pooled, one dense layer to three classes.',
    settings: { ...common, architecture: 'bag', dim: 16, bigramBuckets: 0, epochs: 5, learningRate: 0.03, l2: 0, wordDropout: 0, sst2Weight: 0.5 },
  },
  {
    version: '1.1.0',
    parent: '1.0.0',
    description: 'Bag of word-piece embeddings trained with word dropout and L2 decay for 10 epochs (regularized 1.0.0).',
    settings: { ...common, architecture: 'bag', dim: 16, bigramBuckets: 0, epochs: 10, learningRate: 0.03, l2: 0.0001, wordDropout: 0.5, sst2Weight: 0.5 },
  },
  {
    version: '1.2.0',
    parent: '1.1.0',
    description: '1.1.0 trained also on every labelled phrase of the training sentences (half of them neutral), its neutral threshold set on dev for at least 30% neutral recall: a version whose neutral answers mean something.',
    settings: { ...common, architecture: 'bag', dim: 16, bigramBuckets: 0, epochs: 10, learningRate: 0.03, l2: 0.0001, wordDropout: 0.5, sst2Weight: 0.5, phraseWeight: 0.5, minNeutralRecall: 0.3 },
  },
];
