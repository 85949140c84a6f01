// npm run train: builds models/sentiment/{1.0.0,1.1.0} (the bag-of-embeddings versions) from the SST data, then evaluates
// each bundle on sst3/test.tsv through the serving code path and records the result.
//   npm run train -- [--data DIR] [--out models] [--only 1.1.0]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataDir, readTsv } from './trainer/data.ts';
import { evaluateBundle, recordEvaluation, sealBundle } from './trainer/evaluate.ts';
import { writeBundle } from './trainer/export-bundle.ts';
import { trainModel } from './trainer/train.ts';
import { VERSIONS } from './trainer/versions.ts';

const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string', default: 'models' }, only: { type: 'string' } } });
const data = dataDir(values.data);
const files = { train: 'sst3/train.tsv', extra: 'sst2/train.tsv', phrases: 'sst3-phrases/train.tsv', dev: 'sst3/dev.tsv', test: 'sst3/test.tsv' };
const read = (f: string) => readTsv(path.join(data, f));
const training = { train: read(files.train), extra: read(files.extra), dev: read(files.dev), phrases: read(files.phrases) };
const test = read(files.test);

for (const spec of VERSIONS.filter((v) => !values.only || v.version === values.only)) {
  const started = Date.now();
  console.log(`sentiment ${spec.version}: training (${spec.settings.architecture}, dim ${spec.settings.dim}, bigrams ${spec.settings.bigramBuckets})`);
  const trained = trainModel(spec.settings, training, (msg) => console.log(`  ${msg}`));
  const dir = path.join(values.out!, 'sentiment', spec.version);
  await writeBundle(dir, trained, spec.settings, {
    name: 'sentiment',
    version: spec.version,
    description: spec.description,
    trainingData: {
      train: [
        files.train,
        ...(spec.settings.sst2Weight > 0 ? [`${files.extra} (negative/positive phrases, weight ${spec.settings.sst2Weight})`] : []),
        ...(spec.settings.phraseWeight ? [`${files.phrases} (every labelled phrase of the training sentences, weight ${spec.settings.phraseWeight})`] : []),
      ],
      model_selection: files.dev,
      examples: trained.examples,
      vocabulary: trained.vocab.length,
    },
  });
  const report = await evaluateBundle(dir, test);
  await recordEvaluation(dir, 'test', files.test, report);
  await sealBundle(dir, data, { parent: spec.parent ?? null });
  console.log(`  ${dir}: test accuracy ${(report.accuracy * 100).toFixed(2)}%, macro-F1 ${(report.macro_f1 * 100).toFixed(2)}% (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
