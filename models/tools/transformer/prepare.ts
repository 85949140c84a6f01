// Tokenizes the training, model-selection and test texts with the bundle's own tokenizer (the
// serving code's TokenEncoder: [CLS] … [SEP], truncated to the model's length), so the trainer in
// Python sees exactly the ids the service will feed the graph.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { BertWordPiece, TokenEncoder } from '../../../services/inference/index.ts';
import { readTsv, type LabelledText } from '../trainer/data.ts';

export const LABELS = ['negative', 'neutral', 'positive'] as const;

export interface EncodedSplit {
  ids: number[][];
  labels: number[];
  /** SST's five fine labels (0 very negative … 4 very positive), for a model trained on them. */
  fine: number[];
}

export interface PreparedData {
  labels: readonly string[];
  vocab_size: number;
  pad_id: number;
  max_length: number;
  /** Every labelled phrase of the training sentences (whole sentences included). */
  phrases: EncodedSplit;
  /** The training sentences alone, seen once more per epoch: the level the model is judged at. */
  sentences: EncodedSplit;
  dev: EncodedSplit;
  test: EncodedSplit;
}

export function prepare(dataDir: string, tokenizerDir: string, maxLength: number): PreparedData {
  const tokenizerJson = JSON.parse(fs.readFileSync(path.join(tokenizerDir, 'tokenizer.json'), 'utf8'));
  const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(tokenizerDir, 'tokenizer_config.json'), 'utf8'));
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  const encoder = new TokenEncoder(tokenizer, maxLength, tokenizerConfig.pad_token ?? '[PAD]', tokenizerConfig.unk_token ?? '[UNK]', BertWordPiece.from(tokenizerJson, tokenizerConfig));
  const encode = (rows: LabelledText[]): EncodedSplit => ({
    ids: rows.map((r) => encoder.encode(r.text).ids),
    labels: rows.map((r) => {
      const index = LABELS.indexOf(r.label as (typeof LABELS)[number]);
      if (index < 0) throw new Error(`unknown label "${r.label}"`);
      return index;
    }),
    fine: rows.map((r) => {
      if (r.fine === undefined || !Number.isInteger(r.fine) || r.fine < 0 || r.fine > 4) throw new Error(`"${r.text}": no fine label 0-4`);
      return r.fine;
    }),
  });
  return {
    labels: LABELS,
    vocab_size: tokenizer.get_vocab(true).size,
    pad_id: encoder.padId,
    max_length: maxLength,
    phrases: encode(readTsv(path.join(dataDir, 'sst3-phrases/train.tsv'))),
    sentences: encode(readTsv(path.join(dataDir, 'sst3/train.tsv'))),
    dev: encode(readTsv(path.join(dataDir, 'sst3/dev.tsv'))),
    test: encode(readTsv(path.join(dataDir, 'sst3/test.tsv'))),
  };
}
