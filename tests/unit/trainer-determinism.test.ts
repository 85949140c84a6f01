// The trainer is seeded: the same settings and data give the same model.onnx bytes.
import t from 'tap';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readTsv } from '../../models/tools/trainer/data.ts';
import { trainModel, type TrainSettings } from '../../models/tools/trainer/train.ts';
import { VERSIONS } from '../../models/tools/trainer/versions.ts';
import { DATA_DIR, SKIP_NO_DATA } from '../helpers/data.ts';

t.test('same seed, same bytes; another seed, other bytes', { skip: SKIP_NO_DATA }, async (t) => {
  const read = (f: string) => readTsv(path.join(DATA_DIR!, f));
  const data = { train: read('sst3/train.tsv').slice(0, 400), extra: read('sst2/train.tsv').slice(0, 800), dev: read('sst3/dev.tsv').slice(0, 100), phrases: read('sst3-phrases/train.tsv').slice(0, 800) };
  const hash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  for (const spec of VERSIONS) {
    const settings: TrainSettings = { ...spec.settings, epochs: 2, bigramBuckets: spec.settings.bigramBuckets ? 4099 : 0 };
    const a = hash(trainModel(settings, data).model.toOnnx());
    const b = hash(trainModel(settings, data).model.toOnnx());
    const c = hash(trainModel({ ...settings, seed: settings.seed + 1 }, data).model.toOnnx());
    t.equal(a, b, `${spec.version}: re-training reproduces model.onnx byte for byte`);
    t.not(a, c, `${spec.version}: a different seed gives a different model`);
  }
});
