// models/tools/quantize.ts on the shipped transformer (2.0.0): its int8 forms must agree with it on
// the sst3 test set and keep its accuracy, at a fraction of its size.
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { nodeArgs } from '../../testkit/entry.ts';
import { ROOT } from '../../testkit/processes.ts';

const run = promisify(execFile);
const DATA = process.env.SENTIMENT_DATA_DIR;
const TRANSFORMER = path.join(ROOT, 'models/sentiment/2.0.0');
const isTransformer = fs.existsSync(path.join(TRANSFORMER, 'config.json')) && JSON.parse(fs.readFileSync(path.join(TRANSFORMER, 'config.json'), 'utf8')).model_type === 'bert';
for (const flags of [[], ['--embeddings'], ['--embeddings-only']]) {
  const embeddings = flags.length > 0;
  const what = flags.length === 0 ? 'its dense layers' : flags[0] === '--embeddings' ? 'with its embeddings as int8 rows' : 'only its embeddings, as int8 rows';
  t.test(`sentiment 2.0.0 in int8 (${what}): ≥ 99% label agreement and accuracy within 0.5 points on sst3 test`, { skip: !DATA ? 'SENTIMENT_DATA_DIR is not set (.ci/run sets it): sst3 test is what the agreement is measured on' : !isTransformer ? 'models/sentiment/2.0.0 is not the transformer' : false, timeout: 300_000 }, async (t) => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quantize-')), '2.0.0-int8');
    t.teardown(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
    await run(process.execPath, [...nodeArgs(path.join(ROOT, 'models/tools/quantize.ts')), TRANSFORMER, out, '--data', DATA!, ...flags], { cwd: ROOT });
    const { quantization } = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    t.ok(quantization.agreement.label_agreement >= 0.99, `label agreement ${(quantization.agreement.label_agreement * 100).toFixed(2)}% (≥ 99%)`);
    const drop = Math.abs(quantization.agreement.accuracy_before - quantization.agreement.accuracy_after);
    t.ok(drop <= 0.005, `accuracy ${(quantization.agreement.accuracy_before * 100).toFixed(2)}% → ${(quantization.agreement.accuracy_after * 100).toFixed(2)}% (within 0.5 points)`);
    const ratio = quantization.model_bytes.after / quantization.model_bytes.before;
    t.ok(ratio < (flags.length === 0 ? 0.8 : flags[0] === '--embeddings' ? 0.3 : 0.5), `model ${(quantization.model_bytes.before / 1e6).toFixed(1)} → ${(quantization.model_bytes.after / 1e6).toFixed(1)} MB`);
    if (embeddings) t.same(quantization.embeddings.tables.map((e: { table: string }) => e.table), ['tokens.weight'], 'the vocabulary table, not the 128 positions');
    if (flags[0] === '--embeddings-only') t.equal(quantization.quantized_ops, 0, 'the dense layers stay float');
  });
}
