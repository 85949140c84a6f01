// npm run train:transformer -- [--out models/sentiment/2.0.0] [--data DIR] [settings]: trains the
// BERT-architecture encoder from scratch (models/tools/transformer/train.py, on Debian's
// python3-torch), on every labelled phrase of the SST-3 training sentences plus the sentences,
// selects the epoch on sst3 dev, exports ONNX, and writes a Hugging Face layout bundle: the word-
// piece tokenizer of the other versions, config.json, and metadata.json with the test scores
// measured through the serving code. The neutral threshold is set on dev (transformer/calibrate.ts).
// --architecture cnn trains a convolutional classifier on the same inputs instead (a companion for
// an ensemble: npm run ensemble); --target fine trains either on SST's five fine labels.
// Seeded: the same settings give the same weights on a machine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE_FILES } from '../../shared/bundle/layout.ts';
import { dataDir, readTsv } from './trainer/data.ts';
import { evaluateBundle, recordEvaluation } from './trainer/evaluate.ts';
import { json, round } from './trainer/export-bundle.ts';
import { chooseNeutralOffset, shiftClassBias } from './transformer/calibrate.ts';
import { LABELS, prepare } from './transformer/prepare.ts';

const ENCODER_SHAPE = ['layers', 'hidden', 'heads', 'ffn'];
const CNN_SHAPE = ['dim', 'filters', 'widths'];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(ROOT, 'models/sentiment/2.0.0') },
    data: { type: 'string' },
    tokenizer: { type: 'string', default: path.join(ROOT, 'models/sentiment/1.1.0'), description: 'a bundle whose tokenizer files to use' },
    python: { type: 'string', default: '/usr/bin/python3' },
    architecture: { type: 'string', default: 'encoder', description: 'encoder (BERT-architecture) or cnn' },
    target: { type: 'string', default: 'classes', description: 'classes (the three) or fine (the five fine SST labels, folded to three in the graph)' },
    select: { type: 'string', default: 'accuracy', description: 'the epoch kept: best dev accuracy, or best calibrated (at the neutral threshold)' },
    dropout: { type: 'string', description: 'default 0.1 (encoder), 0.5 (cnn)' },
    dim: { type: 'string', default: '128', description: 'cnn: embedding size' },
    filters: { type: 'string', default: '128', description: 'cnn: filters per width' },
    widths: { type: 'string', default: '1,2,3,4,5', description: 'cnn: filter widths in word pieces' },
    layers: { type: 'string', default: '4' },
    hidden: { type: 'string', default: '128' },
    heads: { type: 'string', default: '4' },
    ffn: { type: 'string', default: '512' },
    epochs: { type: 'string', description: 'default 3 (encoder), 5 (cnn)' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', description: 'default 1e-3 (encoder), 2e-3 (cnn)' },
    seed: { type: 'string', default: '20261129' },
    'max-length': { type: 'string', default: '128' },
    'min-neutral-recall': { type: 'string', default: '0.3', description: 'the neutral threshold is set on dev for at least this neutral recall (0: plain argmax)' },
    trained: { type: 'string', description: "a folder holding train.py's model.onnx and report.json from an earlier run (another machine): package it without training again" },
  },
});

for (const [option, allowed] of [['architecture', ['encoder', 'cnn']], ['target', ['classes', 'fine']], ['select', ['accuracy', 'calibrated']]] as const) {
  if (!(allowed as readonly string[]).includes(values[option]!)) {
    console.error(`--${option} ${values[option]}: one of ${allowed.join(', ')}`);
    process.exit(2);
  }
}

const data = dataDir(values.data);
const out = path.resolve(values.out);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'train-transformer-'));
const maxLength = Number(values['max-length']);
console.log(`tokenizing with ${values.tokenizer}'s tokenizer…`);
const prepared = prepare(data, values.tokenizer, maxLength);
fs.writeFileSync(path.join(work, 'data.json'), JSON.stringify(prepared));

const cnn = values.architecture === 'cnn';
const shapeSettings = cnn ? { dim: values.dim, filters: values.filters, widths: values.widths } : { layers: values.layers, hidden: values.hidden, heads: values.heads, ffn: values.ffn };
const settings = {
  architecture: values.architecture,
  target: values.target,
  select: values.select,
  'min-neutral-recall': values.select === 'calibrated' ? values['min-neutral-recall'] : undefined,
  ...shapeSettings,
  dropout: values.dropout ?? (cnn ? '0.5' : '0.1'),
  epochs: values.epochs ?? (cnn ? '5' : '3'),
  batch: values.batch,
  lr: values.lr ?? (cnn ? '2e-3' : '1e-3'),
  seed: values.seed,
};
const args = [path.join(ROOT, 'models/tools/transformer/train.py'), '--data', path.join(work, 'data.json'), '--out', path.join(work, 'model.onnx'), '--report', path.join(work, 'report.json')];
for (const [k, v] of Object.entries(settings)) if (v !== undefined) args.push(`--${k}`, String(v));
if (values.trained) {
  for (const f of ['model.onnx', 'report.json']) fs.copyFileSync(path.join(values.trained, f), path.join(work, f));
} else {
  console.log(`training: ${values.python} ${args.slice(1).join(' ')}`);
  const run = spawnSync(values.python, args, { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(run.error ? `${values.python}: ${run.error.message} (install Debian's python3-torch)` : `training failed (exit ${run.status})`);
    process.exit(1);
  }
}
const report = JSON.parse(fs.readFileSync(path.join(work, 'report.json'), 'utf8')) as {
  parameters: number;
  examples: number;
  training_seconds: number;
  selected_epoch: number;
  history: { epoch: number; dev: { accuracy: number; macro_f1: number } }[];
  torch: string;
  settings: Record<string, unknown>;
};

fs.mkdirSync(out, { recursive: true });
fs.copyFileSync(path.join(work, 'model.onnx'), path.join(out, BUNDLE_FILES.model));
// The shape as trained (an earlier run's report when packaging one).
const trainedAs = (k: keyof typeof values) => report.settings[k] ?? values[k];
const isCnn = trainedAs('architecture') === 'cnn';
// The numeric sizes (widths is a list, read below).
const shape = Object.fromEntries([...ENCODER_SHAPE, 'dim', 'filters'].map((k) => [k, Number(trainedAs(k as 'layers'))])) as Record<'layers' | 'hidden' | 'heads' | 'ffn' | 'dim' | 'filters', number>;
const widths = String(trainedAs('widths')).split(',').map(Number);
const fine = trainedAs('target') === 'fine';
for (const file of [BUNDLE_FILES.tokenizer, BUNDLE_FILES.tokenizerConfig]) fs.copyFileSync(path.join(values.tokenizer, file), path.join(out, file));
fs.writeFileSync(
  path.join(out, BUNDLE_FILES.config),
  json(isCnn ? {
    architectures: ['ConvolutionalSentenceClassifier'],
    model_type: 'cnn',
    vocab_size: prepared.vocab_size,
    embedding_size: shape.dim,
    filters: shape.filters,
    filter_widths: widths,
    max_position_embeddings: maxLength,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])),
  } : {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: prepared.vocab_size,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.ffn,
    hidden_act: 'gelu',
    max_position_embeddings: maxLength,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    classifier_pooling: 'mean',
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])),
  }),
);
// The neutral threshold, chosen on dev through the bundle as written, then put into the classifier's bias.
const minNeutralRecall = Number(values['min-neutral-recall']);
const calibration = await chooseNeutralOffset(out, readTsv(path.join(data, 'sst3/dev.tsv')), minNeutralRecall);
fs.writeFileSync(path.join(out, BUNDLE_FILES.model), shiftClassBias(fs.readFileSync(path.join(out, BUNDLE_FILES.model)), LABELS.indexOf('neutral'), calibration.offset, LABELS.length));
console.log(`neutral logit offset ${calibration.offset}: dev accuracy ${(calibration.dev.argmaxAccuracy * 100).toFixed(2)}% → ${(calibration.dev.accuracy * 100).toFixed(2)}%, neutral recall ${(calibration.dev.argmaxNeutralRecall * 100).toFixed(2)}% → ${(calibration.dev.neutralRecall * 100).toFixed(2)}%`);
const selected = report.history.find((h) => h.epoch === report.selected_epoch)!;
const version = path.basename(out);
fs.writeFileSync(
  path.join(out, BUNDLE_FILES.metadata),
  json({
    name: path.basename(path.dirname(out)),
    version,
    description: `${isCnn ? `A convolutional classifier (${shape.dim}-wide word-piece embeddings, ${shape.filters} filters of each width ${widths.join(', ')}, max-pooled)` : `A BERT-architecture encoder (${shape.layers} layers × ${shape.hidden} hidden, ${shape.heads} heads, ${shape.ffn} feed-forward, masked mean pooling)`} trained from scratch here on SST${fine ? "'s five fine labels (answering the three classes)" : ''}${isCnn ? '' : ': not a pretrained BERT'}. Its neutral threshold is set on dev for at least ${minNeutralRecall * 100}% neutral recall.`,
    architecture: isCnn ? 'cnn' : 'bert-encoder',
    training_data: {
      train: [`sst3-phrases/train.tsv (every labelled phrase of the sst3 training sentences${fine ? ', fine labels' : ''})`, 'sst3/train.tsv (the sentences once more per epoch)'],
      model_selection: `sst3/dev.tsv (${trainedAs('select') === 'calibrated' ? 'accuracy at the neutral threshold' : 'accuracy'}, per epoch)`,
      examples: report.examples,
      vocabulary: prepared.vocab_size,
    },
    training_date: new Date().toISOString().slice(0, 10),
    seed: Number(values.seed),
    // The other architecture's shape settings are train.py's defaults, unused: left out.
    trainer_settings: { ...Object.fromEntries(Object.entries(report.settings).filter(([k]) => !(isCnn ? ENCODER_SHAPE : CNN_SHAPE).includes(k))), trainer: 'models/tools/transformer/train.py', torch: report.torch },
    parameters: report.parameters,
    training_seconds: report.training_seconds,
    training_machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}`,
    training_history: report.history,
    metrics: {
      dev: {
        dataset: 'sst3/dev.tsv',
        selected_epoch: report.selected_epoch,
        argmax: { accuracy: round(selected.dev.accuracy), macro_f1: round(selected.dev.macro_f1) },
        min_neutral_recall: minNeutralRecall,
        neutral_logit_offset: calibration.offset,
        accuracy: round(calibration.dev.accuracy),
        neutral_recall: round(calibration.dev.neutralRecall),
      },
    },
  }),
);
const test = await evaluateBundle(out, readTsv(path.join(data, 'sst3/test.tsv')));
await recordEvaluation(out, 'test', 'sst3/test.tsv', test);
fs.rmSync(work, { recursive: true, force: true });
console.log(`${out}: ${(report.parameters / 1e6).toFixed(2)} M parameters, ${(fs.statSync(path.join(out, BUNDLE_FILES.model)).size / 1e6).toFixed(1)} MB; sst3 test accuracy ${(test.accuracy * 100).toFixed(2)}%, macro-F1 ${(test.macro_f1 * 100).toFixed(2)}%, recall ${JSON.stringify(test.recall)}`);
