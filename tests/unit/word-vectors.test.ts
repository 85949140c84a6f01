// Pretrained word vectors for a word-piece vocabulary (train:transformer --word-vectors): each whole
// word of the vocabulary gets its vector from the file, in either format (GloVe's text lines or
// wink-embeddings' JSON); continuation pieces ("##s") and special tokens never do; a file whose
// vectors disagree in size, or that holds no vectors, is refused with the line named.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tokenizerVocabulary, vocabularyVectors } from '../../models/tools/transformer/word-vectors.ts';
import { ROOT } from '../../testkit/processes.ts';

const VOCAB = { '[PAD]': 0, '[UNK]': 1, good: 2, film: 3, '##s': 4, s: 5, dull: 6 };

function file(t: Test, name: string, text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'word-vectors-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}

t.test("GloVe's text format: the whole words found get their vectors, keyed by token id", async (t) => {
  const glove = file(t, 'glove.txt', ['the 0.1 0.2 0.3', 'good 1 2 3', 'film -1 -2 -3.5', 's 4 5 6', 'good 9 9 9', '[pad] 7 7 7', ''].join('\n'));
  const vectors = await vocabularyVectors(glove, VOCAB);
  t.same(vectors.rows, { 2: [1, 2, 3], 3: [-1, -2, -3.5], 5: [4, 5, 6] }, 'good, film and s; the first "good" kept; "##s" and the special tokens never');
  t.equal(vectors.dim, 3);
  t.equal(vectors.words, 4, 'whole words: good, film, s, dull');
  t.equal(vectors.found, 3);
  t.equal(vectors.sha256, createHash('sha256').update(fs.readFileSync(glove)).digest('hex'), "the file's hash, from the bytes read");
});

t.test("wink-embeddings' JSON: the vectors without their trailing norm and index", async (t) => {
  const wink = file(t, 'vectors.json', JSON.stringify({ dimensions: 2, vectors: { good: [0.5, -0.5, 0.7, 12], dull: [1, 1, 1.4, 40], s: [2, 2, 2.8, 41] } }));
  const vectors = await vocabularyVectors(wink, VOCAB);
  t.same(vectors.rows, { 2: [0.5, -0.5], 6: [1, 1], 5: [2, 2] });
  t.equal(vectors.dim, 2);
  t.equal(vectors.sha256, createHash('sha256').update(fs.readFileSync(wink)).digest('hex'));
});

t.test('refused with a reason: vectors of different sizes, a word without numbers, no vectors at all, JSON of another shape', async (t) => {
  await t.rejects(vocabularyVectors(file(t, 'a.txt', 'good 1 2 3\nfilm 1 2\n'), VOCAB), /line 2: "film" has 2 dimensions, the vectors before it 3/);
  await t.rejects(vocabularyVectors(file(t, 'b.txt', 'good 1 x 3\n'), VOCAB), /line 1: "good" has no vector of numbers/);
  await t.rejects(vocabularyVectors(file(t, 'c.txt', '\n\n'), VOCAB), /no vectors/);
  await t.rejects(vocabularyVectors(file(t, 'd.json', '{"words": []}'), VOCAB), /not wink-embeddings JSON/);
});

t.test("a bundle's word-piece vocabulary, and a folder without one refused", async (t) => {
  const vocab = tokenizerVocabulary(path.join(ROOT, 'models/sentiment/2.0.0'));
  t.equal(vocab['[PAD]'], 0);
  t.ok(Object.keys(vocab).length > 10_000, 'the shipped vocabulary');
  t.throws(() => tokenizerVocabulary(path.join(ROOT, 'models')), /ENOENT/);
});
