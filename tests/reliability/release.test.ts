// npm run release against a real deployment (the launcher, its router and replicas) under load,
// production 1.1.0 on blue: a tampered bundle refused before loading; a bundle that passes offline
// but cannot take the load rolled back by the rollout's analysis; 4.0.0 killed mid-rollout,
// started again, resumed and promoted with no failed request; then 1.2.0 stopped at the offline
// gates against 4.0.0. Run by npm run test:faults (.ci/run), not npm test: it holds load for minutes.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { writeManifest } from '../../shared/bundle/manifest.ts';
import { ROOT } from '../../testkit/processes.ts';
import { command, startLauncher, type RunningLauncher } from '../helpers/launcher.ts';
import { pacedLoad } from '../helpers/load.ts';
import { until } from '../helpers/router.ts';
import { writeSlowBundle } from '../helpers/slow-bundle.ts';

const DATA = process.env.SENTIMENT_DATA_DIR;

interface Release {
  id: string;
  state: string;
  version: string;
  steps: { name: string; state: string; summary: string }[];
  facts: Record<string, unknown>;
}
interface Models {
  models: { version: string; stage: string | null; moves: { from: string | null; to: string; by: string }[]; lineage: unknown }[];
}
interface Config {
  environments: { name: string; weight: number; model_versions: string[] }[];
}

if (!DATA) {
  t.plan(0, 'SENTIMENT_DATA_DIR is unset: the offline gates evaluate on sst3/test.tsv');
} else {
  const bundleOf = (models: string, version: string) => path.join(models, 'sentiment', version);
  const launcher: RunningLauncher = await startLauncher(t, {
    environments: { blue: { version: '1.1.0', replicas: 1 }, canary: { version: '1.0.0', replicas: 1 } },
    weights: { blue: 100, canary: 0 },
    prepareModels: (models) => {
      // Same answers as 4.0.0, a few ms more work per text: inside the latency budget one at a time,
      // more than one replica can do at a few hundred texts a second.
      writeSlowBundle(bundleOf(path.join(ROOT, 'models'), '4.0.0'), bundleOf(models, '9.9.6'), '9.9.6', { elements: 32768, ops: 250 });
      // A bundle with its manifest, then one byte of its model changed.
      const tampered = bundleOf(models, '9.9.7');
      fs.cpSync(bundleOf(path.join(ROOT, 'models'), '1.1.0'), tampered, { recursive: true, dereference: true });
      const metadata = JSON.parse(fs.readFileSync(path.join(tampered, 'metadata.json'), 'utf8'));
      fs.writeFileSync(path.join(tampered, 'metadata.json'), JSON.stringify({ ...metadata, version: '9.9.7' }));
      writeManifest(tampered);
      const model = fs.readFileSync(path.join(tampered, 'model.onnx'));
      model[model.length >> 1] ^= 1;
      fs.writeFileSync(path.join(tampered, 'model.onnx'), model);
    },
  });
  const settings = path.join(launcher.dir, 'release.yaml');
  fs.writeFileSync(
    settings,
    `environments: [canary, blue]
offline: { latency_budget_ms: 50 }
shadow: { percent: 20, requests: 100, max_seconds: 60 }
rollout:
  steps: [50, 100]
  pause_seconds: 4
  analysis: { window_seconds: 4, min_requests: 20, max_wait_seconds: 120 }
timeout_seconds: 600
`,
  );
  const reports = path.join(launcher.dir, 'releases');
  const release = (version: string) => command(launcher, 'release', [version, '--config', settings, '--report-dir', reports], { SENTIMENT_DATA_DIR: DATA });
  const releases = async () => (await launcher.admin<{ current: Release | null; last: Release | null }>('/admin/releases')).body;
  const models = async () => (await launcher.admin<Models>('/admin/models')).body.models;
  const stage = async (version: string) => (await models()).find((m) => m.version === version)?.stage;
  const weights = async () => Object.fromEntries((await launcher.admin<Config>('/admin/config')).body.environments.map((e) => [e.name, e.weight]));

  t.test('a tampered bundle is refused before anything loads it, the changed file named', async (t) => {
    const { code, output } = await release('9.9.7').done;
    t.equal(code, 1, output);
    t.match(output, /9\.9\.7\/model\.onnx: does not match its sha256 in manifest\.json/);
    const last = (await releases()).last!;
    t.equal(last.state, 'refused');
    t.same(last.steps.map((s) => [s.name, s.state]), [['validate', 'failed']]);
    t.equal(await stage('9.9.7'), 'candidate', 'never staged');
    t.same(await weights(), { blue: 100, canary: 0 });
  });

  t.test('a bundle that passes the offline gates but cannot take the load is rolled back by the analysis', async (t) => {
    // The load starts once the offline gates are passed: they time one text at a time, and the
    // live steps are what the load is for.
    const run = release('9.9.6');
    await until(async () => (await releases()).current?.steps.some((s) => s.name === 'offline_gates' && s.state === 'passed') === true || run.proc.exitCode !== null, 240_000, 200);
    const load = pacedLoad(launcher.base, 200, 300_000);
    t.teardown(() => load.stop());
    const { code, output } = await run.done;
    await load.stop();
    t.equal(code, 1, output);
    const last = (await releases()).last!;
    t.equal(last.state, 'rolled_back', output);
    const steps = Object.fromEntries(last.steps.map((s) => [s.name, s]));
    t.equal(steps.offline_gates.state, 'passed', 'it passed offline');
    // Live, it fails where the load finds it out: the rollout's analysis (P95, errors), or before
    // that the shadow's failures or its replica out of rotation when the rollout would start.
    const failed = last.steps.find((s) => s.state === 'failed');
    t.ok(failed && ['shadow', 'rollout'].includes(failed.name), `failed live at ${failed?.name}: ${failed?.summary}`);
    t.equal(steps.rollback.state, 'passed');
    t.same(await weights(), { blue: 100, canary: 0 }, 'the weights from before the rollout are back');
    t.equal(await stage('9.9.6'), 'archived');
    t.equal(await stage('1.1.0'), 'production', '1.1.0 was recorded as production and stays');
    if (failed?.name === 'rollout' && /failed:/.test(failed.summary)) {
      const history = (await launcher.admin<{ kind: string; action: string; rollout_id?: string; checks?: { metric: string; passed: boolean }[] }[]>('/admin/history?limit=500')).body;
      const analyses = history.filter((e) => e.kind === 'analysis' && e.rollout_id === last.facts.rollout_id);
      t.ok(analyses.some((e) => e.action === 'fail' && e.checks?.some((c) => !c.passed)), 'an analysis failed it, with the check that failed');
    }
  });

  t.test('4.0.0 against 1.1.0: killed mid-rollout, started again, resumed and promoted under load with no failed request', async (t) => {
    const load = pacedLoad(launcher.base, 100, 300_000);
    t.teardown(() => load.stop());
    const first = release('4.0.0');
    await until(async () => (await releases()).current?.steps.some((s) => s.name === 'rollout' && s.state === 'running') === true || first.proc.exitCode !== null, 240_000, 200);
    t.equal(first.proc.exitCode, null, `the first run was at the rollout when killed:\n${first.output()}`);
    first.proc.kill('SIGKILL');
    await first.done;
    const { code, output } = await release('4.0.0').done;
    const result = await load.stop();
    t.equal(code, 0, output);
    t.match(output, /resuming release sentiment-4\.0\.0-/);
    t.match(output, /following rollout/);
    t.same(result.failed, [], `no failed request among ${result.sent}`);
    const last = (await releases()).last!;
    t.equal(last.state, 'promoted');
    t.equal(last.steps.filter((s) => s.name === 'rollout').length, 1, 'one rollout, not two');
    t.equal(await stage('4.0.0'), 'production');
    t.equal(await stage('1.1.0'), 'archived', 'the old production is archived');
    const w = await weights();
    t.equal(w.blue, 0, 'blue (1.1.0) is the backup');
    t.ok(w.canary > 0);
    const config = (await launcher.admin<Config>('/admin/config')).body;
    t.same(config.environments.find((e) => e.name === 'canary')?.model_versions, ['4.0.0']);
    const report = fs.readFileSync(path.join(reports, `${last.id}.md`), 'utf8');
    t.match(report, /# Release of sentiment 4\.0\.0: promoted/);
    t.match(report, /\| accuracy \| 0\.695 \| 0\.686 \|/);
    t.match(report, /sentiment 1\.1\.0: production → archived/);
    const json = JSON.parse(fs.readFileSync(path.join(reports, `${last.id}.json`), 'utf8'));
    t.equal(json.state, 'promoted');
    t.ok(json.decisions.some((d: { kind: string; action: string }) => d.kind === 'rollout' && d.action === 'completed'), 'the report links the rollout’s decisions');
  });

  t.test('1.2.0 against 4.0.0 is stopped at the offline gates, the deployment untouched', async (t) => {
    const before = await weights();
    const { code, output } = await release('1.2.0').done;
    t.equal(code, 1, output);
    t.match(output, /FAIL {2}accuracy 0\.618 < 0\.685 \(production 0\.695 − 0\.01\)/);
    const last = (await releases()).last!;
    t.equal(last.state, 'refused');
    t.match(last.steps.find((s) => s.name === 'offline_gates')?.summary, /accuracy 0\.618 < 0\.685/);
    t.notOk(last.steps.some((s) => s.name === 'deploy'), 'nothing was deployed');
    t.equal(await stage('1.2.0'), 'candidate');
    t.same(await weights(), before);
  });
}
