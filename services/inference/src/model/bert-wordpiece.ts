// The service's own BERT WordPiece tokenizer, for the shape the project's tools write and a BERT
// export has: BertNormalizer (clean_text), BertPreTokenizer, WordPiece, a template such as
// [CLS] A [SEP]. It gives the ids and type ids @huggingface/tokenizers gives, sooner: the library
// runs Unicode regular expressions, NFD and arrays of characters joined back over every text, 30 to
// 40 µs per SST sentence, more than a bag-of-embeddings model spends on the text
// (bench/RESULTS.md, `npm run bench:tokenizer`).
//  - Printable ASCII (with spaces, tabs, newlines): one pass over the character codes, about an
//    eighth of the library's time.
//  - Any other text: the library's normalizer steps in its order with its own primitives (the same
//    regular expressions, toLowerCase, NFD), the same pre-tokenizing expression, then WordPiece
//    (word lengths in code points, as the library counts them): about a third of its time.
// A tokenizer of another shape gets none (from() answers undefined), and a text holding a
// character that may begin an added token ("[" of "[MASK]") goes to the library (encode() answers
// undefined). tests/unit/bert-wordpiece.test.ts holds it to the library's output on every SST
// sentence and on random text, any code point included.
import { isRecord } from '../../../../shared/is-record.ts';

export interface WordPieceIds {
  ids: number[];
  typeIds: number[];
}

type TemplatePart = { ids: number[]; typeId: number } | { sequence: true; typeId: number };

/** ASCII punctuation as the BERT pre-tokenizer splits it (each such character is a token of its own). */
const isPunctuation = (c: number) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
/** What clean_text turns into a space. */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

// The library's own expressions (its BertNormalizer and BertPreTokenizer), so that any text is
// classified as it would classify it, precedence and flags included.
const CONTROL = /^\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}$/u;
const WHITESPACE = /^\s$/;
const NONSPACING_MARKS = /\p{Mn}/gu;
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const PRE_TOKENS = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'gu');
/** The library tests UTF-16 units, so only the Basic Multilingual Plane's CJK blocks count. */
const isChineseUnit = (u: number) => (u >= 0x4e00 && u <= 0x9fff) || (u >= 0x3400 && u <= 0x4dbf) || (u >= 0xf900 && u <= 0xfaff);

export class BertWordPiece {
  private constructor(
    /** Token → id as the library looks it up: the vocabulary, with the added tokens over it. */
    private readonly ids: Map<string, number>,
    private readonly unkId: number,
    private readonly prefix: string,
    private readonly maxWordChars: number,
    private readonly normalizer: { lowercase: boolean; stripAccents: unknown; chinese: boolean },
    private readonly template: TemplatePart[],
    /** First characters of the added tokens (as written, lower- and upper-cased): a text holding one goes to the library. */
    private readonly addedStarts: Set<string>,
    /** The same, by character code, for the ASCII ones. */
    private readonly addedAscii: Uint8Array,
  ) {}

  /** The tokenizer for this tokenizer.json (and tokenizer_config.json), or undefined when its shape is not the one above. */
  static from(tokenizerJson: unknown, tokenizerConfig: unknown = {}): BertWordPiece | undefined {
    if (!isRecord(tokenizerJson) || !isRecord(tokenizerConfig)) return undefined;
    const { normalizer, pre_tokenizer: preTokenizer, model, post_processor: post, added_tokens: added } = tokenizerJson;
    if (tokenizerConfig.remove_space === true || tokenizerConfig.do_lowercase_and_remove_accent === true) return undefined;
    if (!isRecord(normalizer) || normalizer.type !== 'BertNormalizer' || normalizer.clean_text !== true || typeof normalizer.lowercase !== 'boolean') return undefined;
    if (!isRecord(preTokenizer) || preTokenizer.type !== 'BertPreTokenizer') return undefined;
    if (!isRecord(model) || model.type !== 'WordPiece' || !isRecord(model.vocab) || typeof model.unk_token !== 'string' || typeof model.continuing_subword_prefix !== 'string' || LONE_SURROGATE.test(model.continuing_subword_prefix) || model.fuse_unk === true) return undefined;
    const maxWordChars = model.max_input_chars_per_word ?? 100;
    if (typeof maxWordChars !== 'number') return undefined;
    const ids = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab)) {
      if (LONE_SURROGATE.test(token)) return undefined;
      if (typeof id === 'number') ids.set(token, id);
    }
    const addedStarts = new Set<string>();
    for (const token of Array.isArray(added) ? added : []) {
      // An added token matched after normalizing would need the library's splitting of the normalized text.
      if (!isRecord(token) || typeof token.content !== 'string' || typeof token.id !== 'number' || token.content.length === 0 || token.normalized === true || LONE_SURROGATE.test(token.content)) return undefined;
      ids.set(token.content, token.id);
      const first = String.fromCodePoint(token.content.codePointAt(0)!);
      for (const c of [first, first.toLowerCase(), first.toUpperCase()]) addedStarts.add(c);
    }
    const unkId = ids.get(model.unk_token);
    if (unkId === undefined) return undefined;
    if (!isRecord(post) || post.type !== 'TemplateProcessing' || !Array.isArray(post.single)) return undefined;
    const template: TemplatePart[] = [];
    for (const item of post.single as unknown[]) {
      if (isRecord(item) && isRecord(item.SpecialToken) && typeof item.SpecialToken.id === 'string' && typeof item.SpecialToken.type_id === 'number') {
        // The library puts the token's text in the sequence and looks its id up like any other.
        template.push({ ids: [ids.get(item.SpecialToken.id) ?? unkId], typeId: item.SpecialToken.type_id });
      } else if (isRecord(item) && isRecord(item.Sequence) && item.Sequence.id === 'A' && typeof item.Sequence.type_id === 'number') {
        template.push({ sequence: true, typeId: item.Sequence.type_id });
      } else return undefined;
    }
    const norm = { lowercase: normalizer.lowercase, stripAccents: normalizer.strip_accents, chinese: Boolean(normalizer.handle_chinese_chars) };
    const addedAscii = new Uint8Array(128);
    for (const c of addedStarts) if (c.length === 1 && c.charCodeAt(0) < 128) addedAscii[c.charCodeAt(0)] = 1;
    return new BertWordPiece(ids, unkId, model.continuing_subword_prefix, maxWordChars, norm, template, addedStarts, addedAscii);
  }

  /** The ids and type ids the library would give, or undefined when this text is for the library. */
  encode(text: string): WordPieceIds | undefined {
    const pieces: number[] = [];
    let start = -1;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 32;
      const space = isSpace(c);
      if (c > 126 || (c < 32 && !space)) return this.encodeUnicode(text);
      if (this.addedAscii[c] === 1) return undefined;
      const punctuation = !space && isPunctuation(c);
      if (space || punctuation) {
        if (start >= 0) this.wordPieces(this.normalizer.lowercase ? text.slice(start, i).toLowerCase() : text.slice(start, i), pieces);
        start = -1;
        if (punctuation) pieces.push(this.ids.get(text[i]) ?? this.unkId);
      } else if (start < 0) start = i;
    }
    return this.withTemplate(pieces);
  }

  /** Text beyond printable ASCII: the library's steps, one by one. */
  private encodeUnicode(text: string): WordPieceIds | undefined {
    for (const c of text) if (this.addedStarts.has(c)) return undefined;
    const pieces: number[] = [];
    for (const word of this.normalize(text).trim().match(PRE_TOKENS) ?? []) {
      this.wordPieces(word, pieces, SURROGATE.test(word) ? [...word].length : word.length);
    }
    return this.withTemplate(pieces);
  }

  /** BertNormalizer: clean_text, CJK characters spaced, lowercase, accents stripped, as the library does them. */
  private normalize(text: string): string {
    let out = '';
    for (const c of text) {
      const code = c.charCodeAt(0);
      if (code < 128) {
        // ASCII: spaces, tabs and newlines become spaces; NUL and other control characters go.
        if (isSpace(code)) out += ' ';
        else if (code >= 32 && code !== 127) out += c;
      } else if (code !== 0xfffd && !CONTROL.test(c)) {
        // The library spaces CJK characters after cleaning, one UTF-16 unit at a time: a character
        // beyond the Basic Multilingual Plane (two units, surrogates) is never spaced.
        out += WHITESPACE.test(c) ? ' ' : this.normalizer.chinese && c.length === 1 && isChineseUnit(code) ? ` ${c} ` : c;
      }
    }
    const strip = (s: string) => s.normalize('NFD').replace(NONSPACING_MARKS, '');
    if (this.normalizer.lowercase) {
      out = out.toLowerCase();
      if (this.normalizer.stripAccents !== false) out = strip(out);
    } else if (this.normalizer.stripAccents) out = strip(out);
    return out;
  }

  private withTemplate(pieces: number[]): WordPieceIds {
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

  /**
   * WordPiece over a normalized word: longest match first, continuations prefixed; a word with an
   * unmatched rest, or longer than max_input_chars_per_word characters, is one unknown token. The
   * library counts and slices code points; slicing UTF-16 units finds the same pieces (a piece
   * that would split a surrogate pair matches no token: from() refuses a vocabulary with a lone
   * surrogate), so only the count needs code points (`chars`, for a word with surrogates).
   */
  private wordPieces(word: string, out: number[], chars = word.length): void {
    if (chars > this.maxWordChars) {
      out.push(this.unkId);
      return;
    }
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
