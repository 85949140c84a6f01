import t from 'tap';
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenEncoder } from '../../services/inference/src/model/token-encoder.ts';
import { tokenizerConfigJson, tokenizerJson } from '../../models/tools/wordpiece/tokenizer-files.ts';
import { FIXTURE_VOCAB } from '../../testkit/bert-fixture.ts';

const vocab = FIXTURE_VOCAB;
const id = (token: string) => vocab.indexOf(token);
const encoder = (maxLength: number, pad = '[PAD]') => new TokenEncoder(new Tokenizer(tokenizerJson(vocab), tokenizerConfigJson(maxLength)), maxLength, pad);

t.test('encodes with [CLS] … [SEP] and truncates keeping the trailing [SEP]', async (t) => {
  const e = encoder(5);
  t.same(e.encode('good film').ids, [id('[CLS]'), id('good'), id('film'), id('[SEP]')]);
  const long = e.encode('good film was great and bad');
  t.equal(long.ids.length, 5);
  t.equal(long.ids[0], id('[CLS]'));
  t.equal(long.ids[4], id('[SEP]'), 'the special token at the end survives truncation');
  t.same(long.ids.slice(1, 4), [id('good'), id('film'), id('was')]);
});

t.test('pads a batch to its longest row (dynamic padding) as int64', async (t) => {
  const e = encoder(64);
  const batch = e.pad([e.encode('good'), e.encode('the film was great')]);
  t.equal(batch.batch, 2);
  t.equal(batch.sequence, 6, 'longest row: [CLS] the film was great [SEP]');
  t.same([...batch.inputIds.slice(0, 6)].map(Number), [id('[CLS]'), id('good'), id('[SEP]'), 0, 0, 0]);
  t.same([...batch.attentionMask].map(Number), [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  t.same([...batch.tokenTypeIds].map(Number), Array(12).fill(0));
});

t.test('a non-zero pad id fills the padding', async (t) => {
  const e = encoder(64, '[MASK]');
  const batch = e.pad([e.encode('good'), e.encode('the film was great')]);
  t.same([...batch.inputIds.slice(3, 6)].map(Number), Array(3).fill(id('[MASK]')));
});
