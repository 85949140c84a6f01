// npm run bench:tokenizer (needs SENTIMENT_DATA_DIR): what tokenizing costs a replica per text, with
// the shipped bundles' tokenizer, on the SST test sentences: the library (@huggingface/tokenizers)
// alone against the encoder as the service runs it (services/inference/src/model/ascii-wordpiece.ts
// first, the library for the texts it leaves), in one process, rounds alternating. Also how many
// sentences the fast path took, and that it gave the library's ids for each. Written to
// bench/RESULTS.md.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { AsciiWordPiece } from '../services/inference/src/model/ascii-wordpiece.ts';
import { TokenEncoder } from '../services/inference/src/model/token-encoder.ts';
import { ROOT } from '../testkit/processes.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';
import { median } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, 'no-write': { type: 'boolean', default: false } } });
const data = process.env.SENTIMENT_DATA_DIR;
if (!data || !fs.existsSync(path.join(data, 'sst3', 'test.tsv'))) {
  console.error('bench:tokenizer needs SENTIMENT_DATA_DIR (a folder with sst3/test.tsv)');
  process.exit(2);
}
const bundle = path.join(ROOT, 'models', 'sentiment', '1.0.0');
const json = JSON.parse(fs.readFileSync(path.join(bundle, 'tokenizer.json'), 'utf8'));
const config = JSON.parse(fs.readFileSync(path.join(bundle, 'tokenizer_config.json'), 'utf8'));
const tokenizer = new Tokenizer(json, config);
const fast = AsciiWordPiece.from(json, config);
if (!fast) throw new Error(`${bundle}'s tokenizer has no fast path`);
const served = new TokenEncoder(tokenizer, 128, '[PAD]', '[UNK]', fast);
const library = new TokenEncoder(tokenizer, 128, '[PAD]', '[UNK]');
const [header, ...rows] = fs.readFileSync(path.join(data, 'sst3', 'test.tsv'), 'utf8').split('\n').filter(Boolean);
const texts = rows.map((r) => r.split('\t')[header.split('\t').indexOf('sentence')]);

let taken = 0;
let differ = 0;
for (const text of texts) {
  if (!fast.encode(text)) continue;
  taken++;
  if (JSON.stringify(served.encode(text)) !== JSON.stringify(library.encode(text))) differ++;
}

/** µs per text over every sentence, once. */
const time = (encoder: TokenEncoder) => {
  const started = performance.now();
  for (const text of texts) encoder.encode(text);
  return ((performance.now() - started) * 1000) / texts.length;
};
// Warm both (V8 optimizes by use: the library kept getting faster through its first ten rounds), then alternate.
const WARM_UP_ROUNDS = 15;
for (let i = 0; i < WARM_UP_ROUNDS; i++) time(library), time(served);
const runs = { library: [] as number[], served: [] as number[] };
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 === 0 ? (['library', 'served'] as const) : (['served', 'library'] as const);
  for (const which of order) runs[which].push(time(which === 'library' ? library : served));
}
const fmt = (n: number) => n.toFixed(2);
const lengths = texts.map((t) => t.length).sort((a, b) => a - b);
const markdown = `## Tokenizing (\`npm run bench:tokenizer\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. The shipped bundles' tokenizer (BERT WordPiece, ${Object.keys(json.model.vocab).length.toLocaleString('en-US')} pieces),
the ${texts.length.toLocaleString('en-US')} SST test sentences (median ${lengths[lengths.length >> 1]} characters), each encoded as a replica encodes it (ids,
type ids, truncation to 128), ${values.rounds} rounds alternating after ${WARM_UP_ROUNDS} warm-up rounds, in one process.

| encoder | µs per sentence (median) | rounds |
| --- | ---: | --- |
| @huggingface/tokenizers alone | ${fmt(median(runs.library))} | ${runs.library.map(fmt).join(' / ')} |
| as served: the ASCII WordPiece fast path, the library for the rest | ${fmt(median(runs.served))} | ${runs.served.map(fmt).join(' / ')} |

The fast path took ${taken.toLocaleString('en-US')} of ${texts.length.toLocaleString('en-US')} sentences (the others hold a character outside printable ASCII) and
gave the library's ids for ${differ === 0 ? 'every one' : `all but ${differ}`}; **${(median(runs.library) / median(runs.served)).toFixed(1)}×** less time per sentence.`;
console.log(markdown);
if (differ > 0) process.exitCode = 1;
if (!values['no-write']) writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'tokenizer', markdown);
