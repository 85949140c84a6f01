// Kubernetes mounts a ConfigMap as a folder of links: weights.yaml → ..data/weights.yaml, and
// ..data → a timestamped folder. An update writes a new folder and swaps ..data atomically (a
// rename of a new link over the old one); the file itself is never written. Hot reload must see it.
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { WeightsStore } from '../../../router/src/weights/store.ts';
import { auth, buildRouter, until } from '../../helpers/router.ts';

const weights = (blue: number) => `environments:\n  blue: { weight: ${blue} }\n  green: { weight: ${100 - blue} }\n`;

async function publish(dir: string, name: string, text: string): Promise<void> {
  await fs.mkdir(path.join(dir, name));
  await fs.writeFile(path.join(dir, name, 'weights.yaml'), text);
  await fs.symlink(name, path.join(dir, '..data_tmp'));
  await fs.rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
}

t.test("a ConfigMap update (the ..data link swapped) is applied; an invalid one is rejected", async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'configmap-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await publish(dir, '..2026_11_29_01', weights(70));
  await fs.symlink(path.join('..data', 'weights.yaml'), path.join(dir, 'weights.yaml'));

  const store = await WeightsStore.open(path.join(dir, 'weights.yaml'), pino({ level: 'silent' }));
  store.watch(60_000); // the poll is far off: the directory watch must see the swap
  t.teardown(() => store.close());
  t.equal(store.snapshot.environments[0].weight, 70);

  await publish(dir, '..2026_11_29_02', weights(10));
  await until(() => store.snapshot.environments[0].weight === 10, 10_000, 20);
  t.pass('the swap is applied');

  await publish(dir, '..2026_11_29_03', 'environments:\n  blue: { weight: -1 }\n');
  await until(() => store.lastFailure !== null, 10_000, 20);
  t.equal(store.snapshot.environments[0].weight, 10, 'an invalid version is rejected and the last good one stays');
  t.match(store.lastFailure?.path, '/environments/blue/weight');
});

// A ConfigMap volume is read-only: a change through the admin API is refused with a clear 409 and
// the weights in force stay (here a read-only tmpfs stands for the mount; it needs root).
t.test('a weights change on a read-only mount is refused, naming the file', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'configmap-ro-'));
  let mounted = false;
  // One teardown, run before the router's own (teardowns run in the order they were added): a
  // lazy unmount detaches the mount while the router still watches the file on it, then the
  // folder goes.
  t.teardown(async () => {
    if (mounted) await promisify(execFile)('umount', ['-l', dir]).catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  });
  const mount = (args: string[]) => promisify(execFile)('mount', args).then(() => true, () => false);
  if (!(await mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]))) return t.plan(0, 'mounting a tmpfs needs root');
  mounted = true;
  await fs.writeFile(path.join(dir, 'weights.yaml'), weights(70));
  t.ok(await mount(['-o', 'remount,ro', dir]), 'the mount is read-only');

  const app = await buildRouter(t, path.join(dir, 'weights.yaml'));
  const res = await app.inject({ method: 'PUT', url: '/admin/weights', headers: auth, payload: { weights: { blue: 10, green: 90 } } });
  t.equal(res.statusCode, 409);
  t.equal(res.json().code, 'ERR_CONFIG_READ_ONLY');
  t.match(res.json().message, /weights\.yaml is read-only here/);
  const config = (await app.inject({ url: '/admin/config', headers: auth })).json();
  t.same(config.environments.map((e: { weight: number }) => e.weight), [70, 30], 'the weights in force stay');
});
