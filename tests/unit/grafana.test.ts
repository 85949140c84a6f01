// The Grafana dashboard: its structure (ids, grid, a Prometheus datasource, at least one query per
// panel, the panels the deployment needs) and every query it runs, checked by Prometheus's own
// promtool as recording rules in a temporary file, so a typo in a query fails the suite.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../../testkit/processes.ts';

interface Panel {
  id: number;
  title: string;
  type: string;
  datasource: { type: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets: { refId: string; expr: string }[];
}

const file = path.join(ROOT, 'deploy', 'grafana', 'dashboards', 'sentiment-serving.json');
const load = async () => JSON.parse(await fs.readFile(file, 'utf8')) as { uid: string; title: string; panels: Panel[]; annotations: { list: { expr?: string }[] } };

t.test('the dashboard is well formed and shows what the deployment needs', async (t) => {
  const dashboard = await load();
  t.ok(dashboard.uid && dashboard.title, 'a uid and a title');
  t.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique');
  for (const p of dashboard.panels) {
    t.equal(p.datasource.type, 'prometheus', `${p.title}: a Prometheus panel`);
    t.ok(p.targets.length > 0 && p.targets.every((q) => q.expr.trim() !== ''), `${p.title}: every target has a query`);
    t.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title}: fits the 24-column grid`);
  }
  const queries = dashboard.panels.flatMap((p) => p.targets.map((q) => q.expr)).join('\n');
  for (const metric of ['sentiment_api_requests_total', 'sentiment_api_latency_seconds_bucket', 'sentiment_prediction_confidence', 'inference_predictions_total', 'deployment_ready_replicas', 'router_decisions_total']) {
    t.match(queries, metric, `it queries ${metric}`);
  }
});

const skip = spawnSync('promtool', ['--version']).status === 0 ? false : 'promtool is not installed (apt-get install prometheus; .ci/run installs it)';

t.test('every query of the dashboard is valid PromQL (promtool)', { skip }, async (t) => {
  const dashboard = await load();
  const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((q) => q.expr)), ...dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : []))];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'grafana-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const rules = path.join(dir, 'queries.yml');
  await fs.writeFile(rules, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }));
  t.match(execFileSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' }), new RegExp(`SUCCESS: ${exprs.length} rules found`), `${exprs.length} queries`);
});
