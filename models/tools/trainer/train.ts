// The seeded, deterministic training loop: build the vocabulary, tokenize with the very tokenizer
// the bundle will ship (through the service's encoder), then SGD with a linearly decaying rate.
import { Tokenizer } from '@huggingface/tokenizers';
import { BertWordPiece, TokenEncoder } from '../../../services/inference/index.ts';
import { Random } from '../../../shared/random.ts';
import { tokenizerConfigJson, tokenizerJson } from '../wordpiece/tokenizer-files.ts';
import { AttentionPooling } from './architectures/attention.ts';
import { BagOfEmbeddings } from './architectures/bag.ts';
import type { Architecture, Example } from './architectures/common.ts';
import type { LabelledText } from './data.ts';
import { bigramBuckets } from './features.ts';
import { buildVocab } from './vocab.ts';

export const LABELS = ['negative', 'neutral', 'positive'] as const;

export interface TrainSettings {
  architecture: 'bag' | 'attention';
  dim: number;
  /** Hashed bigram buckets; 0 for unigrams only. */
  bigramBuckets: number;
  epochs: number;
  learningRate: number;
  /** L2 weight decay. */
  l2: number;
  /** Probability of dropping each word piece / bigram from a training example (DAN-style). */
  wordDropout: number;
  /** Shift the neutral logit by the offset that maximizes dev accuracy (a decision threshold). */
  calibrateNeutral: boolean;
  /** Weight of each SST-2 phrase (negative/positive only) next to an SST-3 sentence's 1. */
  sst2Weight: number;
  /** Weight of each labelled phrase of the SST-3 training sentences (sst3-phrases: half neutral); 0 or absent: none. */
  phraseWeight?: number;
  /** Calibration keeps to neutral offsets giving at least this neutral recall on dev (0 or absent: accuracy alone). */
  minNeutralRecall?: number;
  minWordCount: number;
  maxWords: number;
  suffixPieces: number;
  maxLength: number;
  seed: number;
}

export interface TrainingData {
  train: LabelledText[];
  extra: LabelledText[];
  dev: LabelledText[];
  /** Every labelled phrase of the training sentences, for settings with a phraseWeight. */
  phrases?: LabelledText[];
}

export interface TrainedModel {
  vocab: string[];
  model: Architecture;
  devAccuracy: number;
  examples: number;
  neutralOffset: number;
}

function createArchitecture(s: TrainSettings, vocabSize: number): Architecture {
  const shape = { vocabSize, dim: s.dim, classes: LABELS.length, bigramBuckets: s.bigramBuckets, l2: s.l2 };
  return s.architecture === 'attention' ? new AttentionPooling(shape, s.seed) : new BagOfEmbeddings(shape, s.seed);
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function accuracy(model: Architecture, examples: Example[]): number {
  return examples.filter((ex) => argmax(model.predict(ex)) === ex.label).length / examples.length;
}

function neutralRecall(model: Architecture, examples: Example[]): number {
  const neutral = LABELS.indexOf('neutral');
  const gold = examples.filter((ex) => ex.label === neutral);
  return gold.filter((ex) => argmax(model.predict(ex)) === neutral).length / Math.max(1, gold.length);
}

/**
 * SST-2 phrases carry no neutral label, so the trained model under-predicts neutral. Pick the
 * offset of the neutral bias (between -1 and 4) that maximizes dev accuracy, among the offsets
 * that give at least minRecall neutral recall on dev when one does; ties go to the smallest
 * shift. Returns the offset applied.
 */
function calibrateNeutral(model: Architecture, dev: Example[], minRecall: number): number {
  const neutral = LABELS.indexOf('neutral');
  const base = model.bias[neutral];
  const candidates: { offset: number; acc: number; recall: number }[] = [];
  for (let step = -20; step <= 80; step++) {
    const offset = step / 20;
    model.bias[neutral] = base + offset;
    candidates.push({ offset, acc: accuracy(model, dev), recall: neutralRecall(model, dev) });
  }
  const eligible = candidates.filter((c) => c.recall >= minRecall);
  let best: (typeof candidates)[number] | undefined;
  for (const c of eligible.length > 0 ? eligible : candidates) {
    if (!best || c.acc > best.acc || (c.acc === best.acc && Math.abs(c.offset) < Math.abs(best.offset))) best = c;
  }
  model.bias[neutral] = base + best!.offset;
  return best!.offset;
}

/** A copy of the example with each feature dropped with probability p (at least one kept). */
function dropFeatures(ex: Example, p: number, rng: Random): Example {
  const keep = <T>(xs: T[]) => {
    const kept = xs.filter(() => rng.next() >= p);
    return kept.length > 0 ? kept : [xs[rng.int(xs.length)]];
  };
  return { ...ex, ids: keep(ex.ids), bigrams: ex.bigrams.length ? keep(ex.bigrams) : ex.bigrams };
}

export function trainModel(s: TrainSettings, data: TrainingData, log: (msg: string) => void = () => {}): TrainedModel {
  const vocab = buildVocab([...data.train, ...data.extra].map((d) => d.text), s);
  const files = { json: tokenizerJson(vocab), config: tokenizerConfigJson(s.maxLength) };
  const encoder = new TokenEncoder(new Tokenizer(files.json, files.config), s.maxLength, '[PAD]', '[UNK]', BertWordPiece.from(files.json, files.config));
  const toExample = (d: LabelledText, weight: number): Example => {
    const label = LABELS.indexOf(d.label as (typeof LABELS)[number]);
    if (label < 0) throw new Error(`unknown label "${d.label}"`);
    const ids = encoder.encode(d.text).ids;
    return { ids, bigrams: bigramBuckets(ids, Math.max(1, s.bigramBuckets)), label, weight };
  };
  const phraseWeight = s.phraseWeight ?? 0;
  if (phraseWeight > 0 && !data.phrases) throw new Error('these settings train on sst3-phrases: pass the phrases');
  const train = [
    ...data.train.map((d) => toExample(d, 1)),
    ...(s.sst2Weight > 0 ? data.extra.map((d) => toExample(d, s.sst2Weight)) : []),
    ...(phraseWeight > 0 ? data.phrases!.map((d) => toExample(d, phraseWeight)) : []),
  ];
  const dev = data.dev.map((d) => toExample(d, 1));

  const rng = new Random(s.seed);
  const model = createArchitecture(s, vocab.length);
  const order = train.map((_, i) => i);
  const totalSteps = s.epochs * train.length;
  let step = 0;
  for (let epoch = 1; epoch <= s.epochs; epoch++) {
    rng.shuffle(order);
    let loss = 0;
    for (const i of order) {
      const lr = s.learningRate * (1 - step++ / totalSteps);
      loss += model.step(s.wordDropout > 0 ? dropFeatures(train[i], s.wordDropout, rng) : train[i], lr);
    }
    log(`epoch ${epoch}/${s.epochs}: loss ${(loss / train.length).toFixed(4)}, dev accuracy ${(accuracy(model, dev) * 100).toFixed(2)}%`);
  }
  const neutralOffset = s.calibrateNeutral ? calibrateNeutral(model, dev, s.minNeutralRecall ?? 0) : 0;
  if (s.calibrateNeutral) log(`neutral logit offset ${neutralOffset.toFixed(2)}: dev accuracy ${(accuracy(model, dev) * 100).toFixed(2)}%, neutral recall ${(neutralRecall(model, dev) * 100).toFixed(2)}%`);
  log(`train accuracy ${(accuracy(model, train) * 100).toFixed(2)}%`);
  return { vocab, model, devAccuracy: accuracy(model, dev), examples: train.length, neutralOffset };
}
