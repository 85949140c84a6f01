// npm run bench:tokenizer (needs SENTIMENT_DATA_DIR): what tokenizing costs a replica per text, with
// the shipped bundles' tokenizer, on the SST test sentences: the library (@huggingface/tokenizers)
// alone against the encoder as the service runs it (services/inference/src/model/bert-wordpiece.ts
// first, the library for the texts it leaves), in one process, rounds alternating, printable ASCII
// and the others apart. Also how many sentences the service's WordPiece took, and that it gave the
// library's ids for each. Written to bench/RESULTS.md.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { BertWordPiece } from '../services/inference/src/model/bert-wordpiece.ts';
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
const fast = BertWordPiece.from(json, config);
if (!fast) throw new Error(`${bundle}'s tokenizer is not of the shape BertWordPiece takes`);
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
// Printable ASCII takes one path, the rest (accents, curly quotes…) another: timed apart, the few
// others repeated to as many encodings as the ASCII ones.
const isAscii = (text: string) => /^[\x20-\x7e\t\n\r]*$/.test(text);
const ascii = texts.filter(isAscii);
const others = texts.filter((text) => !isAscii(text));
const groups = { ascii, others: Array.from({ length: Math.ceil(ascii.length / Math.max(1, others.length)) }, () => others).flat() };

/** µs per text over a group, once. */
const time = (encoder: TokenEncoder, group: string[]) => {
  const started = performance.now();
  for (const text of group) encoder.encode(text);
  return ((performance.now() - started) * 1000) / group.length;
};
const encoders = { library, served };
type Key = `${keyof typeof encoders} ${keyof typeof groups}`;
const keys = (Object.keys(encoders) as (keyof typeof encoders)[]).flatMap((e) => (Object.keys(groups) as (keyof typeof groups)[]).map((g) => `${e} ${g}` as Key));
const timeKey = (key: Key) => {
  const [e, g] = key.split(' ') as [keyof typeof encoders, keyof typeof groups];
  return time(encoders[e], groups[g]);
};
// Warm both (V8 optimizes by use: the library kept getting faster through its first ten rounds), then alternate.
const WARM_UP_ROUNDS = 15;
for (let i = 0; i < WARM_UP_ROUNDS; i++) keys.forEach(timeKey);
const runs = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
for (let round = 0; round < Number(values.rounds); round++) {
  for (const key of round % 2 === 0 ? keys : [...keys].reverse()) runs[key].push(timeKey(key));
}
const fmt = (n: number) => n.toFixed(2);
const lengths = texts.map((t) => t.length).sort((a, b) => a - b);
const row = (label: string, key: Key) => `| ${label} | ${fmt(median(runs[key]))} | ${runs[key].map(fmt).join(' / ')} |`;
const speedup = (g: keyof typeof groups) => (median(runs[`library ${g}`]) / median(runs[`served ${g}`])).toFixed(1);
const markdown = `## Tokenizing (\`npm run bench:tokenizer\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. The shipped bundles' tokenizer (BERT WordPiece, ${Object.keys(json.model.vocab).length.toLocaleString('en-US')} pieces),
the ${texts.length.toLocaleString('en-US')} SST test sentences (median ${lengths[lengths.length >> 1]} characters), each encoded as a replica encodes it (ids,
type ids, truncation to 128), ${values.rounds} rounds alternating after ${WARM_UP_ROUNDS} warm-up rounds, in one process: the ${ascii.length.toLocaleString('en-US')} of printable
ASCII, and the ${others.length} others (accented letters) repeated ${Math.ceil(ascii.length / Math.max(1, others.length))} times.

| encoder | µs per sentence (median) | rounds |
| --- | ---: | --- |
${row('@huggingface/tokenizers alone, ASCII sentences', 'library ascii')}
${row("as served (the service's own BERT WordPiece), ASCII sentences", 'served ascii')}
${row('@huggingface/tokenizers alone, the others', 'library others')}
${row("as served (the service's own BERT WordPiece), the others", 'served others')}

The service's WordPiece took ${taken.toLocaleString('en-US')} of ${texts.length.toLocaleString('en-US')} sentences (the library takes a text holding a character that may begin an
added token, "[" of "[MASK]") and gave the library's ids for ${differ === 0 ? 'every one' : `all but ${differ}`}: **${speedup('ascii')}×** less time per ASCII sentence, ${speedup('others')}× per other one.`;
console.log(markdown);
if (differ > 0) process.exitCode = 1;
if (!values['no-write']) writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'tokenizer', markdown);
