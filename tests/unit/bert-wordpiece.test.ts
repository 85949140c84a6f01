// The service's own BERT WordPiece against the library it stands in for: the same ids and type ids
// on every SST sentence and on random text (ASCII and not), and the library for what it leaves.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { BertWordPiece } from '../../services/inference/src/model/bert-wordpiece.ts';
import { TokenEncoder } from '../../services/inference/src/model/token-encoder.ts';
import { tokenizerConfigJson, tokenizerJson } from '../../models/tools/wordpiece/tokenizer-files.ts';
import { FIXTURE_VOCAB } from '../../testkit/bert-fixture.ts';
import { ROOT } from '../../testkit/processes.ts';

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
const bundles = fs.readdirSync(path.join(ROOT, 'models/sentiment')).map((v) => path.join(ROOT, 'models/sentiment', v));
const shipped = { json: readJson(path.join(bundles[0], 'tokenizer.json')), config: readJson(path.join(bundles[0], 'tokenizer_config.json')) };

/** What the library says, in the fast path's terms. */
const library = (tokenizer: Tokenizer) => (text: string) => {
  const enc = tokenizer.encode(text, { return_token_type_ids: true });
  return { ids: enc.ids, typeIds: enc.token_type_ids ?? [] };
};

t.test('every shipped bundle gets its own WordPiece', async (t) => {
  for (const dir of bundles) t.ok(BertWordPiece.from(readJson(path.join(dir, 'tokenizer.json')), readJson(path.join(dir, 'tokenizer_config.json'))), path.basename(dir));
});

t.test('the same ids as the library on every SST sentence it takes', { skip: process.env.SENTIMENT_DATA_DIR ? false : 'SENTIMENT_DATA_DIR is unset: this reads the SST sentences (sst3/*.tsv, sst2/train.tsv)' }, async (t) => {
  const fast = BertWordPiece.from(shipped.json, shipped.config)!;
  const slow = library(new Tokenizer(shipped.json, shipped.config));
  const texts = ['sst3/train.tsv', 'sst3/dev.tsv', 'sst3/test.tsv', 'sst2/train.tsv'].flatMap((file) =>
    fs.readFileSync(path.join(process.env.SENTIMENT_DATA_DIR!, file), 'utf8').split('\n').slice(1).filter(Boolean).map((line) => line.split('\t')[0]),
  );
  let taken = 0;
  const differ: string[] = [];
  for (const text of texts) {
    const got = fast.encode(text);
    if (!got) continue;
    taken++;
    const want = slow(text);
    if (got.ids.join() !== want.ids.join() || got.typeIds.join() !== want.typeIds.join()) differ.push(text);
  }
  t.same(differ.slice(0, 5), [], `no sentence tokenized differently (${differ.length} of ${taken})`);
  t.ok(taken / texts.length > 0.99, `it took ${taken} of ${texts.length} sentences`);
});

t.test('random text: the encoder with it answers as the library alone', async (t) => {
  for (const [name, json, config] of [
    ['shipped tokenizer', shipped.json, shipped.config],
    ['fixture tokenizer', tokenizerJson(FIXTURE_VOCAB), tokenizerConfigJson(16)],
    // Pieces beyond the Basic Multilingual Plane: matched, and counted, by code point.
    ['fixture tokenizer with emoji pieces', tokenizerJson([...FIXTURE_VOCAB, '😀', '##😀', 'a😀', '##a']), tokenizerConfigJson(16)],
  ] as const) {
    const tokenizer = new Tokenizer(json, config);
    const withFast = new TokenEncoder(tokenizer, 16, '[PAD]', '[UNK]', BertWordPiece.from(json, config));
    const alone = new TokenEncoder(tokenizer, 16, '[PAD]');
    const words = ['good', 'film', 'the', "n't", 'un', '##able', 'GrEaT', 'xyzzy', 'a'.repeat(101), 'é'.repeat(101), '[MASK]', '[cls]', 'café', 'CAFÉ', 'Café', '中文', 'naïve', 'ΟΔΟΣ', 'straße', 'İstanbul', 'ﬁlm', '😀😀', 'a😀a😀', '😀'.repeat(60), `${'a'.repeat(99)}😀`];
    const chars = [
      ...'abcXYZ09 .,!?\'"-$+<=>^`|~(){}[]@#%&*/:;\\_',
      ...['\t', '\n', '\r', '\u0000', '\u0001', '\u000b', '\u007f', '\u0085', '\u00a0', '\u2028', '\u3000', '\u200d', '\u00ad', '\ue000', '\ufffd', '\ud800', '\udc00'],
      ...['é', 'e\u0301', 'Σ', 'ς', 'ß', 'İ', 'Å', '½', '①', '“', '”', '’', '—', '…', '¿', '¡', '中', '𠀀', 'ｱ', 'ア', '한', '😀', '\ud83d\udc4d\ud83c\udffd'],
    ];
    const text = fc.oneof(
      fc.array(fc.oneof(fc.constantFrom(...words), fc.constantFrom(...chars)), { maxLength: 40 }).map((parts) => parts.join('')),
      // Any code point, and any UTF-16 unit (lone surrogates too).
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({ unit: 'binary-ascii', maxLength: 30 }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 30 }),
    );
    // Throws with the shrunk counterexample when one differs.
    fc.assert(fc.property(text, (s) => JSON.stringify(withFast.encode(s)) === JSON.stringify(alone.encode(s))), { numRuns: 3000 });
    t.pass(`${name}: 3,000 random texts alike`);
  }
});

t.test('what goes to the library, and edge cases it keeps', async (t) => {
  const fast = BertWordPiece.from(shipped.json, shipped.config)!;
  const slow = library(new Tokenizer(shipped.json, shipped.config));
  for (const text of ['[MASK] good', 'x[y', 'café [SEP]']) t.equal(fast.encode(text), undefined, `library: ${JSON.stringify(text)}`);
  for (const text of ['', '   ', '\u0000\u200d', 'a'.repeat(100), 'a'.repeat(101), 'zzzzqqqq', '$5 <3 ~~', 'Line\none\r\ttwo', "it 's GREAT !", 'tab\u0001bed', 'no\u00a0break', 'CRÈME brûlée', 'it’s “fine” — really…', '中文 film', '👍🏽 great 😀', 'ΟΔΟΣ.']) {
    t.strictSame(fast.encode(text), slow(text), JSON.stringify(text));
  }
});

t.test('a tokenizer of another shape gets no fast path', async (t) => {
  const base = tokenizerJson(FIXTURE_VOCAB);
  const variants: [string, Record<string, unknown>, Record<string, unknown>?][] = [
    ['another pre-tokenizer', { ...base, pre_tokenizer: { type: 'Whitespace' } }],
    ['no clean_text', { ...base, normalizer: { ...(base.normalizer as object), clean_text: false } }],
    ['lowercase unset', { ...base, normalizer: { type: 'BertNormalizer', clean_text: true } }],
    ['a sequence of normalizers', { ...base, normalizer: { type: 'Sequence', normalizers: [] } }],
    ['unknown tokens fused', { ...base, model: { ...(base.model as object), fuse_unk: true } }],
    ['a BPE model', { ...base, model: { ...(base.model as object), type: 'BPE' } }],
    ['a pair in the single template', { ...base, post_processor: { ...(base.post_processor as object), single: [{ Sequence: { id: 'B', type_id: 0 } }] } }],
    ['remove_space in the config', base, { remove_space: true }],
    ['a lone surrogate in the vocabulary', tokenizerJson([...FIXTURE_VOCAB, 'x\ud800'])],
  ];
  for (const [name, json, config] of variants) t.equal(BertWordPiece.from(json, config ?? {}), undefined, name);
  t.ok(BertWordPiece.from(base, {}), 'the fixture itself has the shape');
});
