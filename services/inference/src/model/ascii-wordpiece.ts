// A fast path for the tokenizers this project trains — BERT WordPiece: BertNormalizer (clean_text,
// lowercase), BertPreTokenizer, WordPiece, a template such as [CLS] A [SEP] — on text of printable
// ASCII, spaces, tabs and newlines. There the library's Unicode machinery (NFD, \p{…} regular
// expressions, strings split into arrays of characters and joined back) changes nothing, and
// costs about 30 µs per SST sentence, more than a bag-of-embeddings model spends on the text; this
// path gives the same ids and type ids in about 4 µs (bench/RESULTS.md, `npm run bench:tokenizer`).
// Anything else goes to the library: a tokenizer of another shape (from() answers undefined), and a
// text with a character outside that set or one that may begin an added token ("[" of "[MASK]"),
// for which encode() answers undefined. tests/unit/ascii-wordpiece.test.ts holds it to the
// library's output on every SST sentence and on random text.

export interface WordPieceIds {
  ids: number[];
  typeIds: number[];
}

type TemplatePart = { ids: number[]; typeId: number } | { sequence: true; typeId: number };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** ASCII punctuation as the BERT pre-tokenizer splits it (each such character is a token of its own). */
const isPunctuation = (c: number) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
/** What clean_text turns into a space (other control characters it deletes: those go to the library). */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

export class AsciiWordPiece {
  private constructor(
    /** Token → id as the library looks it up: the vocabulary, with the added tokens over it. */
    private readonly ids: Map<string, number>,
    private readonly unkId: number,
    private readonly prefix: string,
    private readonly maxWordChars: number,
    private readonly lowercase: boolean,
    private readonly template: TemplatePart[],
    /** Character codes (< 128) that may begin an added token: a text holding one goes to the library. */
    private readonly addedStarts: Uint8Array,
  ) {}

  /** The fast path for this tokenizer.json (and tokenizer_config.json), or undefined when its shape is not the one above. */
  static from(tokenizerJson: unknown, tokenizerConfig: unknown = {}): AsciiWordPiece | undefined {
    if (!isRecord(tokenizerJson) || !isRecord(tokenizerConfig)) return undefined;
    const { normalizer, pre_tokenizer: preTokenizer, model, post_processor: post, added_tokens: added } = tokenizerJson;
    if (tokenizerConfig.remove_space === true || tokenizerConfig.do_lowercase_and_remove_accent === true) return undefined;
    if (!isRecord(normalizer) || normalizer.type !== 'BertNormalizer' || normalizer.clean_text !== true || typeof normalizer.lowercase !== 'boolean') return undefined;
    if (!isRecord(preTokenizer) || preTokenizer.type !== 'BertPreTokenizer') return undefined;
    if (!isRecord(model) || model.type !== 'WordPiece' || !isRecord(model.vocab) || typeof model.unk_token !== 'string' || typeof model.continuing_subword_prefix !== 'string' || model.fuse_unk === true) return undefined;
    const maxWordChars = model.max_input_chars_per_word ?? 100;
    if (typeof maxWordChars !== 'number') return undefined;
    const ids = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab)) if (typeof id === 'number') ids.set(token, id);
    const addedStarts = new Uint8Array(128);
    for (const token of Array.isArray(added) ? added : []) {
      if (!isRecord(token) || typeof token.content !== 'string' || typeof token.id !== 'number' || token.content.length === 0) return undefined;
      ids.set(token.content, token.id);
      const first = token.content[0];
      for (const c of [first, first.toLowerCase(), first.toUpperCase(), token.content.toLowerCase()[0]]) if (c.charCodeAt(0) < 128) addedStarts[c.charCodeAt(0)] = 1;
    }
    const unkId = ids.get(model.unk_token);
    if (unkId === undefined) return undefined;
    if (!isRecord(post) || post.type !== 'TemplateProcessing' || !Array.isArray(post.single) || !isRecord(post.special_tokens)) return undefined;
    const template: TemplatePart[] = [];
    for (const item of post.single as unknown[]) {
      if (isRecord(item) && isRecord(item.SpecialToken) && typeof item.SpecialToken.id === 'string' && typeof item.SpecialToken.type_id === 'number') {
        // The library puts the token's text in the sequence and looks its id up like any other.
        template.push({ ids: [ids.get(item.SpecialToken.id) ?? unkId], typeId: item.SpecialToken.type_id });
      } else if (isRecord(item) && isRecord(item.Sequence) && item.Sequence.id === 'A' && typeof item.Sequence.type_id === 'number') {
        template.push({ sequence: true, typeId: item.Sequence.type_id });
      } else return undefined;
    }
    return new AsciiWordPiece(ids, unkId, model.continuing_subword_prefix, maxWordChars, normalizer.lowercase, template, addedStarts);
  }

  /** The ids and type ids the library would give, or undefined when this text is for the library. */
  encode(text: string): WordPieceIds | undefined {
    const pieces: number[] = [];
    let start = -1;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 32;
      const space = isSpace(c);
      if (c > 126 || (c < 32 && !space) || this.addedStarts[c] === 1) return undefined;
      const punctuation = !space && isPunctuation(c);
      if (space || punctuation) {
        if (start >= 0) this.word(text, start, i, pieces);
        start = -1;
        if (punctuation) pieces.push(this.ids.get(text[i]) ?? this.unkId);
      } else if (start < 0) start = i;
    }
    const ids: number[] = [];
    const typeIds: number[] = [];
    for (const part of this.template) {
      const add = 'sequence' in part ? pieces : part.ids;
      for (const id of add) {
        ids.push(id);
        typeIds.push(part.typeId);
      }
    }
    return { ids, typeIds };
  }

  /** WordPiece: longest match first, continuations prefixed; a word with any unmatched rest is one unknown token. */
  private word(text: string, start: number, end: number, out: number[]): void {
    if (end - start > this.maxWordChars) {
      out.push(this.unkId);
      return;
    }
    const word = this.lowercase ? text.slice(start, end).toLowerCase() : text.slice(start, end);
    const first = out.length;
    for (let from = 0; from < word.length; ) {
      let to = word.length;
      let id: number | undefined;
      for (; to > from; to--) {
        id = this.ids.get(from === 0 ? word.slice(from, to) : this.prefix + word.slice(from, to));
        if (id !== undefined) break;
      }
      if (id === undefined) {
        out.length = first;
        out.push(this.unkId);
        return;
      }
      out.push(id);
      from = to;
    }
  }
}
