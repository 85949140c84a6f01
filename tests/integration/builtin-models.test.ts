// The shipped sentiment bundles: complete, small and documented, and each text's answer its own.
// (Their accuracy as served, against their metadata: tests/models/builtin-accuracy.test.ts.)
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { loadBundle, Predictor } from '../../services/inference/index.ts';
import { bundleDir, metadata, VERSIONS } from '../helpers/builtin-bundles.ts';

const FILES = ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json', 'metadata.json'];

t.test('each built-in bundle is complete, small and documented', async (t) => {
  for (const v of VERSIONS) {
    let bytes = 0;
    for (const f of FILES) {
      const file = path.join(bundleDir(v), f);
      t.ok(fs.existsSync(file), `${v}/${f} exists`);
      bytes += fs.statSync(file).size;
    }
    t.ok(bytes <= 20 * 1024 * 1024, `${v} is ${(bytes / 1e6).toFixed(2)} MB (at most 20 MB)`);
    const config = JSON.parse(fs.readFileSync(path.join(bundleDir(v), 'config.json'), 'utf8'));
    t.same(config.id2label, { 0: 'negative', 1: 'neutral', 2: 'positive' }, `${v} id2label`);
    const meta = metadata(v);
    t.equal(meta.version, v);
    // An ensemble was trained as its members were: each records its seed.
    if (meta.architecture === 'ensemble') t.ok(meta.members.length >= 2 && meta.members.every((m: { seed: unknown; sha256: string }) => typeof m.seed === 'number' && m.sha256.length === 64), `${v}: each member records its seed and graph hash`);
    else t.type(meta.seed, 'number', `${v} records its seed`);
    // A model that did not start from scratch says what it started from.
    for (const m of meta.architecture === 'ensemble' ? meta.members : [meta]) {
      if (/pretrained word vectors/.test(m.description)) t.match(m.word_vectors, { file: String, sha256: /^[0-9a-f]{64}$/, dimensions: Number }, `${v}: ${m.version} names the word vectors it started from`);
    }
    t.ok(meta.trainer_settings && meta.training_data, `${v} records trainer settings and training data`);
    t.type(meta.metrics.test.accuracy, 'number', `${v} records test accuracy`);
    t.type(meta.metrics.test.macro_f1, 'number', `${v} records macro-F1`);
    t.same(Object.keys(meta.metrics.test.recall).sort(), ['negative', 'neutral', 'positive'], `${v} records per-class recall`);
  }
  const [v100, v110] = [metadata('1.0.0'), metadata('1.1.0')];
  t.ok(v110.metrics.test.accuracy > v100.metrics.test.accuracy, '1.1.0 beats 1.0.0');
  t.ok(v110.metrics.test.accuracy > 0.672, '1.1.0 beats the Naive Bayes reference (67.2%)');
});

t.test("a text's answer does not depend on the other texts of its batch (padding is masked, nothing is scaled per batch)", async (t) => {
  const short = 'a gentle , funny film';
  const long = `${'the plot wanders through scene after scene of people talking , '.repeat(6)}and then it ends .`;
  for (const v of VERSIONS) {
    const bundle = await loadBundle(bundleDir(v), { workers: 0, intraOpThreads: 1, interOpThreads: 1 });
    try {
      // No length-aware splitting: the short text is padded to the long one's length.
      const predictor = new Predictor(bundle, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 16, concurrency: 1 });
      const [alone] = await predictor.predict([short]);
      const [batched] = await predictor.predict([short, long, long]);
      const worst = Math.max(...bundle.labels.map((l) => Math.abs(alone.probabilities[l] - batched.probabilities[l])));
      t.ok(worst < 1e-5, `${v}: alone and padded beside longer texts within 1e-5 (${worst.toExponential(1)})`);
    } finally {
      await bundle.classifier.release();
    }
  }
});
