// npm run release's parts that need no deployment: its settings (validated, the field named), the
// behavioural suite (valid, deterministic, bounded; it catches what accuracy hides) and the offline
// gates on built-in bundles.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { casesOf, readSuite, runChecklist } from '../../launcher/src/release/checklist.ts';
import { offlineGates } from '../../launcher/src/release/gates.ts';
import { readReleaseSettings } from '../../launcher/src/release/settings.ts';
import { ROOT } from '../../testkit/processes.ts';

const SUITE = path.join(ROOT, 'models/checklist/sentiment.json');
const bundle = (version: string) => path.join(ROOT, 'models/sentiment', version);
const temp = (t: Test, name: string, text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

t.test('settings: the shipped file and the defaults validate; a bad field is named', async (t) => {
  const shipped = readReleaseSettings(path.join(ROOT, 'deploy/release.yaml'));
  t.same(shipped.environments, ['canary', 'blue']);
  t.equal(shipped.offline.max_accuracy_drop, 0.01);
  t.same(shipped.rollout.steps, [10, 50, 100]);
  const defaults = readReleaseSettings(undefined);
  t.equal(defaults.offline.latency_budget_ms, 10);
  t.equal(defaults.shadow.requests, 300);
  t.throws(() => readReleaseSettings(temp(t, 'r.yaml', 'offline: { max_accuracy_drop: 2 }\n')), /\/offline\/max_accuracy_drop/);
  t.throws(() => readReleaseSettings(temp(t, 'r.yaml', 'environment: canary\n')), /\/environment: Unexpected property/);
  t.throws(() => readReleaseSettings(temp(t, 'r.yaml', 'rollout: { steps: [] }\n')), /\/rollout\/steps/);
  t.throws(() => readReleaseSettings(temp(t, 'r.yaml', 'a: [\n')), /r\.yaml/);
});

t.test('the behavioural suite: valid, its cases deterministic and bounded, INV cases differ only in the varied slot', async (t) => {
  const suite = readSuite(SUITE);
  t.ok(suite.tests.length >= 8);
  for (const test of suite.tests) {
    const cases = casesOf(test, suite);
    t.ok(cases.length > 0 && cases.length <= suite.max_cases, `${test.name}: ${cases.length} cases`);
    t.same(casesOf(test, suite), cases, `${test.name}: the same cases every run`);
    if (test.type === 'INV') for (const c of cases) t.equal(new Set(c).size, c.length, `${test.name}: ${c.join(' / ')}`);
    if (test.type === 'DIR') for (const c of cases) t.equal(c.length, 2);
  }
  const names = suite.tests.find((x) => x.type === 'INV' && x.vary === 'name')!;
  const [one] = casesOf(names, suite);
  const strip = (text: string) => suite.fills.name.reduce((s, n) => s.replace(n, 'NAME'), text);
  t.equal(new Set(one.map(strip)).size, 1, 'only the name differs');
  t.throws(() => readSuite(temp(t, 's.json', JSON.stringify({ ...suite, tests: [{ ...suite.tests[0], templates: ['The {nothing}.'] }] }))), /uses \{nothing\}, which fills does not list/);
  t.throws(() => readSuite(temp(t, 's.json', JSON.stringify({ ...suite, max_cases: 0 }))), /\/max_cases/);
});

t.test('the suite catches what accuracy hides: 1.1.0 never answers neutral on neutral facts', async (t) => {
  const result = await runChecklist(bundle('1.1.0'), readSuite(SUITE), 'sentiment');
  const neutral = result.tests.find((x) => x.name === 'neutral facts')!;
  t.equal(neutral.pass_rate, 0);
  t.ok(neutral.failures.length > 0 && neutral.failures[0].labels[0] !== 'neutral');
  t.ok(result.tests.find((x) => x.name === 'positive adjectives')!.pass_rate > 0.9, 'and knows its adjectives');
  t.ok(result.pass_rate > 0.5 && result.pass_rate < 0.8, `pass rate ${result.pass_rate}`);
});

t.test('offline gates: 1.2.0 against 1.1.0 fails on accuracy, passes its recall floors and latency', { skip: process.env.SENTIMENT_DATA_DIR ? false : 'SENTIMENT_DATA_DIR is unset: the gates evaluate on sst3/test.tsv' }, async (t) => {
  const settings = readReleaseSettings(undefined).offline;
  const result = await offlineGates(bundle('1.2.0'), bundle('1.1.0'), { ...settings, latency_texts: 50 }, process.env.SENTIMENT_DATA_DIR!, ROOT, () => {});
  const gate = (name: string) => result.gates.find((g) => g.name === name)!;
  t.equal(result.passed, false);
  t.match(gate('accuracy'), { candidate: 0.618, production: 0.686, threshold: 0.676, passed: false });
  t.match(gate('accuracy').detail, 'accuracy 0.618 < 0.676 (production 0.686 − 0.01)');
  t.match(gate('macro_f1'), { candidate: 0.557, passed: true }, 'a better macro-F1 (it answers neutral)');
  t.match(gate('recall_neutral'), { candidate: 0.29, threshold: 0.2, passed: true });
  t.equal(gate('latency_p95_ms').passed, true);
  t.equal(result.evaluation.candidate.examples, 2210);
});
