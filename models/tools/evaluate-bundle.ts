// npm run evaluate -- <bundle-dir> [--data DIR]: accuracy and macro-F1 on sst3/test.tsv through
// the serving code path, written into the bundle's metadata.json.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataDir, readTsv } from './trainer/data.ts';
import { evaluateBundle, recordEvaluation } from './trainer/evaluate.ts';

const { values, positionals } = parseArgs({ options: { data: { type: 'string' } }, allowPositionals: true });
if (positionals.length === 0) {
  console.error('usage: npm run evaluate -- <bundle-dir> [more bundle dirs] [--data DIR]');
  process.exit(2);
}
const test = readTsv(path.join(dataDir(values.data), 'sst3/test.tsv'));
for (const dir of positionals) {
  const report = await evaluateBundle(dir, test);
  await recordEvaluation(dir, 'test', 'sst3/test.tsv', report);
  console.log(`${dir}: accuracy ${(report.accuracy * 100).toFixed(2)}%, macro-F1 ${(report.macro_f1 * 100).toFixed(2)}%, recall ${JSON.stringify(report.recall)}`);
}
