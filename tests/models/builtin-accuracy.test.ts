// The shipped sentiment bundles' accuracy as served: each version behind its own service process,
// the whole sst3 test set through /predict/batch, against the accuracy its metadata.json records.
import t from 'tap';
import path from 'node:path';
import { request } from 'undici';
import { readTsv } from '../../models/tools/trainer/data.ts';
import { ROOT, startProcess } from '../../testkit/processes.ts';
import { metadata, VERSIONS } from '../helpers/builtin-bundles.ts';
import { DATA_DIR, SKIP_NO_DATA } from '../helpers/data.ts';

t.test('accuracy served over HTTP matches metadata.json within 0.5 points', { skip: SKIP_NO_DATA }, async (t) => {
  const test = readTsv(path.join(DATA_DIR!, 'sst3', 'test.tsv'));
  for (const v of VERSIONS) {
    const svc = await startProcess({ MODELS_DIR: path.join(ROOT, 'models'), MODEL_NAME: 'sentiment', MODEL_VERSION: v });
    try {
      let correct = 0;
      for (let i = 0; i < test.length; i += 64) {
        const chunk = test.slice(i, i + 64);
        const res = await request(`${svc.url}/predict/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ texts: chunk.map((e) => e.text) }),
        });
        const body = (await res.body.json()) as { predictions: { sentiment: string }[]; model_version: string };
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        body.predictions.forEach((p, j) => (correct += p.sentiment === chunk[j].label ? 1 : 0));
      }
      const served = correct / test.length;
      const recorded = metadata(v).metrics.test.accuracy;
      t.ok(Math.abs(served - recorded) <= 0.005, `${v}: served ${(served * 100).toFixed(2)}% vs metadata ${(recorded * 100).toFixed(2)}%`);
    } finally {
      await svc.stop();
    }
  }
});
