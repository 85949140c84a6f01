// The router as users run it: a real process, its start-up checks and its shutdown.
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { ROOT, runToExit, startProcess } from '../../../testkit/processes.ts';
import { tinyUpstream, until, weightsFile } from '../../helpers/router.ts';

const ENTRY = path.join(ROOT, 'router/src/server.ts');
const TOKEN = 'router-process-token-0123456789';

t.test('refuses to start without an admin token, naming the variable', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const { code, output } = await runToExit({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: '', ROUTER_PORT: '0' }, ENTRY);
  t.equal(code, 1);
  t.match(output, /ROUTER_ADMIN_TOKEN/);
});

t.test('refuses to start on an invalid weights file, naming the field', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: -1 }\n');
  const { code, output } = await runToExit({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0' }, ENTRY);
  t.equal(code, 1);
  t.match(output, /\/environments\/blue\/weight/);
});

t.test('refuses to start on an invalid settings file, naming the file and the field', async (t) => {
  const file = await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n');
  const settings = path.join(path.dirname(file), 'router.yaml');
  await fs.writeFile(settings, 'hedge: { delay_factor: 1000 }\n');
  const { code, output } = await runToExit({ ROUTER_CONFIG_FILE: settings, ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0' }, ENTRY);
  t.equal(code, 1);
  t.match(output, /router\.yaml: \/hedge\/delay_factor/);
});

t.test('serves, then drains on SIGTERM and exits 0', async (t) => {
  const upstream = await tinyUpstream(t, 'blue');
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${upstream.url}] }\n`);
  const router = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '100' }, ENTRY);
  t.teardown(() => router.stop('SIGKILL'));
  await until(async () => {
    const res = await request(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"good"}' });
    await res.body.dump();
    return res.statusCode === 200;
  });
  t.pass('proxies once the replica passed its check');
  t.notMatch(router.output(), new RegExp(TOKEN), 'the admin token never appears in the logs');
  t.equal(await router.stop('SIGTERM'), 0, 'exit 0 after SIGTERM');
});
