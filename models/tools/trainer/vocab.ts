// Builds a WordPiece vocabulary from training text: frequent whole words, frequent word-final
// pieces (##ing, ##s …) so rare words split into known parts, and every character seen, so no
// word ever maps to [UNK] only because of one unknown letter. The order is deterministic.
import { Tokenizer } from '@huggingface/tokenizers';
import { SPECIAL_TOKENS, tokenizerJson } from '../wordpiece/tokenizer-files.ts';

export interface VocabOptions {
  minWordCount: number;
  maxWords: number;
  suffixPieces: number;
}

/** Splits text exactly as the shipped tokenizer will (BERT normalizer + pre-tokenizer). */
export function wordSplitter(): (text: string) => string[] {
  const probe = new Tokenizer(tokenizerJson([...SPECIAL_TOKENS]), {});
  return (text) => probe.pre_tokenizer!.pre_tokenize_text(probe.normalizer!.normalize(text));
}

const byCountThenName = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export function buildVocab(texts: Iterable<string>, options: VocabOptions): string[] {
  const split = wordSplitter();
  const words = new Map<string, number>();
  for (const text of texts) for (const w of split(text)) words.set(w, (words.get(w) ?? 0) + 1);

  const ranked = [...words.entries()].sort(byCountThenName);
  const kept = ranked.filter(([, c]) => c >= options.minWordCount).slice(0, options.maxWords).map(([w]) => w);
  const keptSet = new Set(kept);

  const chars = new Set<string>();
  const suffixes = new Map<string, number>();
  for (const [word, count] of ranked) {
    for (const ch of word) chars.add(ch);
    if (keptSet.has(word)) continue;
    for (let len = 2; len <= 4 && len < word.length; len++) {
      const piece = `##${word.slice(word.length - len)}`;
      suffixes.set(piece, (suffixes.get(piece) ?? 0) + count);
    }
  }
  const charList = [...chars].sort();
  const suffixList = [...suffixes.entries()].sort(byCountThenName).slice(0, options.suffixPieces).map(([p]) => p);
  const vocab = [...SPECIAL_TOKENS, ...kept, ...suffixList];
  const seen = new Set(vocab);
  for (const piece of [...charList, ...charList.map((c) => `##${c}`)]) {
    if (!seen.has(piece)) {
      seen.add(piece);
      vocab.push(piece);
    }
  }
  return vocab;
}
