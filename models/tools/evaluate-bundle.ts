// npm run evaluate -- <bundle-dir> [--data DIR]: accuracy and macro-F1 on sst3/test.tsv through
// the serving code path, and the drift reference on sst3/dev.tsv (what drift monitoring tests live
// traffic against), written into the bundle's metadata.json.
// With --neutral-recall R: instead, what a neutral threshold set on sst3 dev for recall R would
// give each bundle on test (accuracy, neutral recall); nothing is written.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataDir, readTsv } from './trainer/data.ts';
import { refreshManifest } from '../../shared/bundle/manifest.ts';
import { evaluateBundle, recordDriftReference, recordEvaluation } from './trainer/evaluate.ts';
import { neutralTradeOff } from './transformer/calibrate.ts';

const { values, positionals } = parseArgs({ options: { data: { type: 'string' }, 'neutral-recall': { type: 'string' } }, allowPositionals: true });
if (positionals.length === 0) {
  console.error('usage: npm run evaluate -- <bundle-dir> [more bundle dirs] [--data DIR] [--neutral-recall 0.3]');
  process.exit(2);
}
const data = dataDir(values.data);
const test = readTsv(path.join(data, 'sst3/test.tsv'));
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
if (values['neutral-recall'] !== undefined) {
  const minRecall = Number(values['neutral-recall']);
  const dev = readTsv(path.join(data, 'sst3/dev.tsv'));
  for (const dir of positionals) {
    const t = await neutralTradeOff(dir, dev, test, minRecall);
    console.log(`${dir}: neutral offset ${t.offset} (dev: accuracy ${pct(t.dev.accuracy)}, neutral recall ${pct(t.dev.neutralRecall)}) → test accuracy ${pct(t.test.accuracy)}, neutral recall ${pct(t.test.neutralRecall)}`);
  }
  process.exit(0);
}
const dev = readTsv(path.join(data, 'sst3/dev.tsv'));
for (const dir of positionals) {
  const report = await evaluateBundle(dir, test);
  await recordEvaluation(dir, 'test', 'sst3/test.tsv', report);
  await recordDriftReference(dir, 'sst3/dev.tsv', dev.map((e) => e.text));
  refreshManifest(dir, (line) => console.log(line));
  console.log(`${dir}: accuracy ${pct(report.accuracy)}, macro-F1 ${pct(report.macro_f1)}, recall ${JSON.stringify(report.recall)}`);
}
