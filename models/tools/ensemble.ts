// npm run ensemble -- <out> <bundle>[=weight] <bundle>[=weight]... [--data DIR] [--min-neutral-recall R]:
// one bundle whose graph runs several bundles' graphs and answers their weighted geometric mean
// (ensemble/merge.ts). The members must tokenize alike (the same tokenizer files) and answer the
// same classes. With the SST data (--data or SENTIMENT_DATA_DIR) the neutral threshold is set on
// sst3 dev for at least R neutral recall (0: plain argmax) and the bundle is scored on sst3 test
// through the serving code, in its metadata.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLE_FILES, REQUIRED_FILES } from '../../shared/bundle/layout.ts';
import { readTsv } from './trainer/data.ts';
import { unsealBundle } from '../../shared/bundle/manifest.ts';
import { evaluateBundle, recordEvaluation, sealBundle } from './trainer/evaluate.ts';
import { json, round } from './trainer/export-bundle.ts';
import { mergeClassifiers } from './ensemble/merge.ts';
import { chooseNeutralOffset, shiftClassBias } from './transformer/calibrate.ts';

const { values, positionals } = parseArgs({
  options: { data: { type: 'string' }, 'min-neutral-recall': { type: 'string', default: '0.3' } },
  allowPositionals: true,
});
const usage = 'usage: npm run ensemble -- <out-dir> <bundle-dir>[=weight] <bundle-dir>[=weight]... [--data DIR] [--min-neutral-recall R]';
if (positionals.length < 3) {
  console.error(usage);
  process.exit(2);
}
const out = path.resolve(positionals[0]);
const members = positionals.slice(1).map((spec) => {
  const [dir, weight = '1'] = spec.split('=');
  if (!(Number(weight) > 0)) {
    console.error(`${spec}: the weight must be a number above 0\n${usage}`);
    process.exit(2);
  }
  const read = (file: string) => fs.readFileSync(path.join(dir, file));
  const readIfThere = (file: string) => (fs.existsSync(path.join(dir, file)) ? read(file) : null);
  for (const file of REQUIRED_FILES) {
    if (!fs.existsSync(path.join(dir, file))) {
      console.error(`${dir}: no ${file}, not a bundle`);
      process.exit(1);
    }
  }
  // metadata.json is optional in a bundle.
  const metadata = fs.existsSync(path.join(dir, BUNDLE_FILES.metadata)) ? JSON.parse(read(BUNDLE_FILES.metadata).toString('utf8')) : {};
  return { dir: path.resolve(dir), weight: Number(weight), read, readIfThere, config: JSON.parse(read(BUNDLE_FILES.config).toString('utf8')), metadata };
});
if (members.some((m) => m.dir === out)) {
  console.error('the output folder must differ from every member: they stay as they are');
  process.exit(2);
}
const [first] = members;
for (const m of members.slice(1)) {
  for (const file of [BUNDLE_FILES.tokenizer, BUNDLE_FILES.tokenizerConfig]) {
    const [mine, firsts] = [m.readIfThere(file), first.readIfThere(file)];
    if (mine === null ? firsts !== null : firsts === null || !mine.equals(firsts)) {
      console.error(`${m.dir}: its ${file} differs from ${first.dir}'s; the members must tokenize alike`);
      process.exit(1);
    }
  }
  if (JSON.stringify(m.config.id2label) !== JSON.stringify(first.config.id2label)) {
    console.error(`${m.dir}: id2label ${JSON.stringify(m.config.id2label)} differs from ${first.dir}'s ${JSON.stringify(first.config.id2label)}`);
    process.exit(1);
  }
}
const labels: string[] = Object.keys(first.config.id2label).sort((a, b) => Number(a) - Number(b)).map((k) => first.config.id2label[k]);

let merged: Uint8Array;
try {
  merged = mergeClassifiers(members.map((m) => ({ bytes: m.read(BUNDLE_FILES.model), weight: m.weight, label: m.dir })), labels.length);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });
unsealBundle(out);
fs.writeFileSync(path.join(out, BUNDLE_FILES.model), merged);
for (const file of [BUNDLE_FILES.tokenizer, BUNDLE_FILES.tokenizerConfig]) if (first.readIfThere(file)) fs.copyFileSync(path.join(first.dir, file), path.join(out, file));
const lengths = members.map((m) => m.config.max_position_embeddings).filter((n): n is number => typeof n === 'number');
fs.writeFileSync(
  path.join(out, BUNDLE_FILES.config),
  json({
    architectures: ['Ensemble'],
    model_type: 'ensemble',
    ...(lengths.length > 0 ? { max_position_embeddings: Math.min(...lengths) } : {}),
    id2label: first.config.id2label,
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  }),
);
const total = members.reduce((sum, m) => sum + m.weight, 0);
const listed = (items: string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items.join(''));
const describe = (m: (typeof members)[number]) => `${m.metadata.version ?? path.basename(m.dir)} (${m.metadata.architecture ?? 'unknown architecture'}, weight ${round(m.weight / total)})`;
const metadata: Record<string, unknown> = {
  name: path.basename(path.dirname(out)),
  version: path.basename(out),
  description: `An ensemble of ${listed(members.map(describe))}: one graph answering the weighted geometric mean of their probabilities.`,
  architecture: 'ensemble',
  // How each member was made, as its own metadata says (seed, settings, data, quantization).
  members: members.map((m) => ({
    version: m.metadata.version,
    architecture: m.metadata.architecture,
    description: m.metadata.description,
    weight: round(m.weight / total),
    sha256: createHash('sha256').update(m.read(BUNDLE_FILES.model)).digest('hex'),
    parameters: m.metadata.parameters,
    seed: m.metadata.seed,
    training_data: m.metadata.training_data,
    word_vectors: m.metadata.word_vectors,
    trainer_settings: m.metadata.trainer_settings,
    quantization: m.metadata.quantization,
    metrics: m.metadata.metrics,
  })),
  training_data: { train: "each member's (members[].training_data)", model_selection: 'sst3/dev.tsv (the neutral threshold of the merged graph)' },
  trainer_settings: { tool: 'models/tools/ensemble.ts', weights: members.map((m) => round(m.weight / total)), min_neutral_recall: Number(values['min-neutral-recall']) },
  training_date: new Date().toISOString().slice(0, 10),
};
const parameters = members.map((m) => m.metadata.parameters);
if (parameters.every((p) => typeof p === 'number')) metadata.parameters = parameters.reduce((a, b) => a + b, 0);
fs.writeFileSync(path.join(out, BUNDLE_FILES.metadata), json(metadata));

const dataDir = values.data ?? process.env.SENTIMENT_DATA_DIR;
if (!dataDir) {
  console.log(`${out} written; set SENTIMENT_DATA_DIR (or --data) to set its neutral threshold on dev and score it on sst3 test`);
  await sealBundle(out);
  process.exit(0);
}
const minNeutralRecall = Number(values['min-neutral-recall']);
if (minNeutralRecall > 0) {
  const calibration = await chooseNeutralOffset(out, readTsv(path.join(dataDir, 'sst3/dev.tsv')), minNeutralRecall);
  fs.writeFileSync(path.join(out, BUNDLE_FILES.model), shiftClassBias(fs.readFileSync(path.join(out, BUNDLE_FILES.model)), labels.indexOf('neutral'), calibration.offset, labels.length));
  metadata.description = `${metadata.description} Its neutral threshold is set on dev for at least ${minNeutralRecall * 100}% neutral recall.`;
  metadata.metrics = {
    dev: { dataset: 'sst3/dev.tsv', argmax: { accuracy: round(calibration.dev.argmaxAccuracy), neutral_recall: round(calibration.dev.argmaxNeutralRecall) }, min_neutral_recall: minNeutralRecall, neutral_logit_offset: calibration.offset, accuracy: round(calibration.dev.accuracy), neutral_recall: round(calibration.dev.neutralRecall) },
  };
  fs.writeFileSync(path.join(out, BUNDLE_FILES.metadata), json(metadata));
  console.log(`neutral logit offset ${calibration.offset}: dev accuracy ${(calibration.dev.argmaxAccuracy * 100).toFixed(2)}% → ${(calibration.dev.accuracy * 100).toFixed(2)}%, neutral recall ${(calibration.dev.argmaxNeutralRecall * 100).toFixed(2)}% → ${(calibration.dev.neutralRecall * 100).toFixed(2)}%`);
}
const test = await evaluateBundle(out, readTsv(path.join(dataDir, 'sst3/test.tsv')));
await recordEvaluation(out, 'test', 'sst3/test.tsv', test);
await sealBundle(out, dataDir);
console.log(`${out}: sst3 test accuracy ${(test.accuracy * 100).toFixed(2)}%, macro-F1 ${(test.macro_f1 * 100).toFixed(2)}%, recall ${JSON.stringify(test.recall)}`);
