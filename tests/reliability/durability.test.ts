// Nothing acknowledged to a client is lost: a router killed (SIGKILL) right after it answered a
// weight change (200), and again right after it accepted feedback (202), comes back with that
// weight change in force and in its history, and with that feedback counted in the A/B report.
import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { fixtureBundleDir } from '../helpers/build-app.ts';
import { until } from '../helpers/router.ts';
import { ROOT, startProcess, type RunningProcess } from '../../testkit/processes.ts';
import { adminHeaders, ADMIN_TOKEN, LONG, record } from './harness.ts';

interface Report {
  versions: { environment: string; online_accuracy: { feedback: number } }[];
}

t.test('a router killed right after acknowledging keeps what it acknowledged', async (t) => {
  const replica = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => replica.stop('SIGKILL'));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'durability-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const weightsFile = path.join(dir, 'weights.yaml');
  await fs.writeFile(weightsFile, `environments:\n  blue: { weight: 1, replicas: [${replica.url}] }\n  green: { weight: 0 }\n`);
  const env = { ROUTER_WEIGHTS_FILE: weightsFile, ROUTER_HISTORY_FILE: path.join(dir, 'history.jsonl'), ROUTER_FEEDBACK_FILE: path.join(dir, 'feedback.jsonl'), ROUTER_ADMIN_TOKEN: ADMIN_TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '100' };
  let router: RunningProcess | undefined;
  t.teardown(() => router?.stop('SIGKILL'));
  const start = async () => {
    router = await startProcess(env, path.join(ROOT, 'router/src/server.ts'));
    const base = router.url;
    await until(async () => (await request(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"ready"}' })).statusCode === 200, 30_000);
    return base;
  };

  const rounds = LONG ? 20 : 3;
  let feedbackAcked = 0;
  for (let round = 1; round <= rounds; round++) {
    let base = await start();
    const weight = 100 + round;
    const put = await request(`${base}/admin/weights`, { method: 'PUT', headers: { ...adminHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ weights: { blue: weight } }) });
    await put.body.dump();
    t.equal(put.statusCode, 200, `round ${round}: weight ${weight} acknowledged`);
    router!.proc.kill('SIGKILL');
    await router!.exited;

    base = await start();
    const config = (await (await request(`${base}/admin/config`, { headers: adminHeaders })).body.json()) as { environments: { name: string; weight: number }[] };
    t.equal(config.environments.find((e) => e.name === 'blue')?.weight, weight, `round ${round}: after SIGKILL the weight ${weight} is in force`);
    const history = (await (await request(`${base}/admin/history?kind=weights&limit=1`, { headers: adminHeaders })).body.json()) as { action: string; weights_after?: Record<string, number> }[];
    t.same([history[0]?.action, history[0]?.weights_after?.blue], ['admin', weight], `round ${round}: and its history entry is there`);

    const predicted = await request(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a triumph"}' });
    const id = String(predicted.headers['x-request-id']);
    await predicted.body.dump();
    const feedback = await request(`${base}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id, label: 'POSITIVE' }) });
    await feedback.body.dump();
    t.equal(feedback.statusCode, 202, `round ${round}: feedback acknowledged`);
    feedbackAcked++;
    router!.proc.kill('SIGKILL');
    await router!.exited;

    base = await start();
    const report = (await (await request(`${base}/admin/experiments/report`, { headers: adminHeaders })).body.json()) as Report;
    const counted = report.versions.filter((v) => v.environment === 'blue').reduce((n, v) => n + v.online_accuracy.feedback, 0);
    t.equal(counted, feedbackAcked, `round ${round}: after SIGKILL the report counts all ${feedbackAcked} feedback records`);
    router!.proc.kill('SIGKILL');
    await router!.exited;
  }
  await record({
    scenario: 'Killed after acknowledging',
    what: `${rounds} rounds: a weight change answered 200, then SIGKILL; feedback answered 202, then SIGKILL; the router restarted each time`,
    sent: rounds * 2,
    failed: 0,
    failures: {},
    p99_ms: null,
    worst_ms: null,
    recovery: `every acknowledged weight change was in force and in the history after the restart, and every acknowledged feedback record (${feedbackAcked}) counted in the A/B report`,
  });
});
