// The router's settings: its file (ROUTER_CONFIG_FILE), the ROUTER_* overrides, the secrets, and
// what GET /admin/config shows of them.
import t, { type Test } from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadRouterConfig, ROUTER_OVERRIDES } from '../../router/index.ts';
import { ROOT } from '../../testkit/processes.ts';
import { ADMIN_TOKEN, auth, buildRouter, weightsFile } from '../helpers/router.ts';

const secrets = { ROUTER_ADMIN_TOKEN: ADMIN_TOKEN };

async function configFile(t: Test, yaml: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'router-config-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'router.yaml');
  await fs.writeFile(file, yaml);
  return file;
}

t.test('without a file: every default, and where they came from', async (t) => {
  const c = loadRouterConfig(secrets);
  t.equal(c.port, 8080);
  t.equal(c.grpcPort, 8081);
  t.equal(c.weightsFile, path.resolve('deploy/weights.yaml'));
  t.same(c.coalesce, { maxBatch: 0, maxWaitMs: 2, maxInFlight: 0, busyIntervalMs: 0, busyRequests: 16, busyUtilization: 0.85, lightRequests: 4 });
  t.same(c.rateLimit, { max: 60_000, windowMs: 60_000 });
  t.equal(c.guard.mode, 'act');
  t.equal(c.replicaMaxInFlight, 64);
  t.same(c.source, { file: null, overrides: [], unknown: [], settings: c.source.settings });
  t.equal(c.source.settings.health.interval_ms, 1000, 'the settings in force, as the file spells them');
});

t.test('the file sets, a variable overrides it, and the source says which', async (t) => {
  const file = await configFile(t, 'weights_file: w.yaml\ncoalesce: { max_batch: 16 }\nguard: { mode: alert }\nhistory: { file: trail.jsonl }\nroute_override_allow: [10.0.0.1]\n');
  const c = loadRouterConfig({ ...secrets, ROUTER_CONFIG_FILE: file, ROUTER_COALESCE_MAX_BATCH: '8', ROUTER_DNS_SERVERS: '10.0.0.53, 10.0.0.54:5353', ROUTER_FEEDBACK_FILE: 'fb.jsonl' });
  t.equal(c.coalesce.maxBatch, 8, 'the variable wins over the file');
  t.equal(c.coalesce.maxWaitMs, 2, 'a field the file leaves out keeps its default');
  t.equal(c.guard.mode, 'alert');
  t.same(c.discovery.servers, ['10.0.0.53', '10.0.0.54:5353'], 'a list from a variable is comma-separated');
  t.same(c.overrideAllow, ['10.0.0.1']);
  t.equal(c.weightsFile, path.join(path.dirname(file), 'w.yaml'), "a path in the file is relative to the file's folder");
  t.equal(c.historyFile, path.join(path.dirname(file), 'trail.jsonl'));
  t.equal(c.feedback.file, path.resolve('fb.jsonl'), 'a path from a variable is relative to the working directory');
  t.same(c.source.overrides.sort(), ['ROUTER_COALESCE_MAX_BATCH', 'ROUTER_DNS_SERVERS', 'ROUTER_FEEDBACK_FILE']);
  t.equal(c.source.file, file);
});

t.test('an invalid file is refused with the file and the field named', async (t) => {
  const cases: [string, RegExp][] = [
    ['coalesce: { max_batch: many }\n', /router\.yaml: \/coalesce\/max_batch/],
    ['coalesce: { max_batch: 1000 }\n', /\/coalesce\/max_batch/],
    ['coalesce: { maxbatch: 8 }\n', /\/coalesce\/maxbatch/],
    ['coalesce: { busy_requests: 0 }\n', /\/coalesce\/busy_requests/],
    ['gaurd: { mode: act }\n', /\/gaurd/],
    ['guard: { mode: maybe }\n', /\/guard\/mode/],
    ['- a list\n', /must be a mapping/],
    ['coalesce: [\n', /not valid YAML/],
  ];
  for (const [yaml, error] of cases) {
    const file = await configFile(t, yaml);
    t.throws(() => loadRouterConfig({ ...secrets, ROUTER_CONFIG_FILE: file }), { code: 'ERR_CONFIG_INVALID', message: error }, JSON.stringify(yaml));
  }
  t.throws(() => loadRouterConfig({ ...secrets, ROUTER_CONFIG_FILE: '/nonexistent/router.yaml' }), /ROUTER_CONFIG_FILE.*ENOENT/);
});

t.test('an invalid variable is refused with the variable named; an unknown one is reported', async (t) => {
  t.throws(() => loadRouterConfig({ ...secrets, ROUTER_COALESCE_MAX_BATCH: 'lots' }), /ROUTER_COALESCE_MAX_BATCH="lots"/);
  t.throws(() => loadRouterConfig({ ...secrets, ROUTER_GUARD_MODE: 'maybe' }), /ROUTER_GUARD_MODE/);
  t.throws(() => loadRouterConfig({ ROUTER_ADMIN_TOKEN: 'short' }), /ROUTER_ADMIN_TOKEN/);
  t.same(loadRouterConfig({ ...secrets, ROUTER_COALESCE_MAXBATCH: '8' }).source.unknown, ['ROUTER_COALESCE_MAXBATCH']);
});

t.test('every field has one variable, and no two fields share one', async (t) => {
  const names = ROUTER_OVERRIDES.map((o) => o.name);
  t.equal(new Set(names).size, names.length);
  t.ok(names.includes('ROUTER_PORT') && names.includes('ROUTER_GUARD_MIN_P95_INCREASE_MS'));
});

t.test("npm start's deploy/router.yaml and Kubernetes' router.yaml load", async (t) => {
  const shipped = loadRouterConfig({ ...secrets, ROUTER_CONFIG_FILE: path.join(ROOT, 'deploy/router.yaml') });
  t.equal(shipped.weightsFile, path.join(ROOT, 'deploy/weights.yaml'));
  t.same(shipped.coalesce, { maxBatch: 32, maxWaitMs: 2, maxInFlight: 1, busyIntervalMs: 8, busyRequests: 16, busyUtilization: 0.85, lightRequests: 4 });
  const k8s = loadRouterConfig({ ...secrets, ROUTER_CONFIG_FILE: path.join(ROOT, 'deploy/k8s/base/router/router.yaml') });
  t.equal(k8s.guard.mode, 'act');
});

t.test('GET /admin/config shows the settings in force, never a secret', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const app = await buildRouter(t, file, { readToken: 'a-read-only-token-0123456789' });
  const res = await app.inject({ method: 'GET', url: '/admin/config', headers: auth });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.router.settings.weights_file, file);
  t.equal(body.router.settings.health.interval_ms, 100);
  t.equal(body.router.settings.coalesce.max_batch, 0);
  t.equal(body.router.file, null);
  t.notOk(res.body.includes(ADMIN_TOKEN) || res.body.includes('a-read-only-token-0123456789'), 'no token in the answer');
});
