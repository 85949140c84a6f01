// Tokenizes text with a Hugging Face tokenizer.json, truncates to the model's max length (keeping
// the trailing special tokens, e.g. [SEP]) and pads a batch to its longest row (dynamic padding).
// Text goes through the service's own BERT WordPiece (bert-wordpiece.ts) when the tokenizer has its shape.
import { Tokenizer } from '@huggingface/tokenizers';
import type { BertWordPiece } from './bert-wordpiece.ts';

export interface EncodedText {
  ids: number[];
  typeIds: number[];
  /** Word pieces the text made, special tokens included, before truncation. */
  pieces: number;
  /** How many of them the vocabulary does not know (the unknown token). */
  unknown: number;
}

export interface BatchArrays {
  batch: number;
  sequence: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

export class TokenEncoder {
  private readonly specialIds: Set<number>;
  readonly padId: number;
  private readonly unkId: number | undefined;

  constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxLength: number,
    padToken: string,
    unkToken = '[UNK]',
    /** Same ids as the tokenizer, sooner, for the texts it takes (BertWordPiece.from of the same files). */
    private readonly fast?: BertWordPiece,
  ) {
    this.specialIds = new Set<number>();
    for (const [id, token] of tokenizer.get_added_tokens_decoder()) if (token.special) this.specialIds.add(id);
    this.padId = tokenizer.token_to_id(padToken) ?? 0;
    this.unkId = tokenizer.token_to_id(unkToken) ?? undefined;
  }

  encode(text: string): EncodedText {
    let { ids, typeIds } = this.fast?.encode(text) ?? this.library(text);
    const pieces = ids.length;
    let unknown = 0;
    if (this.unkId !== undefined) for (const id of ids) if (id === this.unkId) unknown++;
    if (ids.length > this.maxLength) {
      let tail = 0;
      while (tail < ids.length && this.specialIds.has(ids[ids.length - 1 - tail])) tail++;
      tail = Math.min(tail, this.maxLength - 1);
      const head = this.maxLength - tail;
      ids = ids.slice(0, head).concat(ids.slice(ids.length - tail));
      typeIds = typeIds.slice(0, head).concat(typeIds.slice(typeIds.length - tail));
    }
    return { ids, typeIds, pieces, unknown };
  }

  private library(text: string): { ids: number[]; typeIds: number[] } {
    const enc = this.tokenizer.encode(text, { return_token_type_ids: true });
    return { ids: enc.ids, typeIds: enc.token_type_ids ?? new Array<number>(enc.ids.length).fill(0) };
  }

  /** Packs encoded rows into [batch, longest] int64 arrays. */
  pad(rows: readonly EncodedText[]): BatchArrays {
    const sequence = Math.max(1, ...rows.map((r) => r.ids.length));
    const size = rows.length * sequence;
    // Ids, mask and type ids are small non-negative integers: write the low 32-bit word of each
    // little-endian int64 through an Int32 view instead of converting every value to a BigInt.
    const inputIds = new BigInt64Array(size);
    const attentionMask = new BigInt64Array(size);
    const tokenTypeIds = new BigInt64Array(size);
    const ids32 = new Int32Array(inputIds.buffer);
    const mask32 = new Int32Array(attentionMask.buffer);
    const types32 = new Int32Array(tokenTypeIds.buffer);
    if (this.padId !== 0) for (let i = 0; i < size; i++) ids32[2 * i] = this.padId;
    rows.forEach((row, b) => {
      const base = b * sequence;
      for (let t = 0; t < row.ids.length; t++) {
        ids32[2 * (base + t)] = row.ids[t];
        mask32[2 * (base + t)] = 1;
        types32[2 * (base + t)] = row.typeIds[t];
      }
    });
    return { batch: rows.length, sequence, inputIds, attentionMask, tokenTypeIds };
  }
}
