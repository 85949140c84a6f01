// Kubernetes mounts a ConfigMap as a folder of links: weights.yaml → ..data/weights.yaml, and
// ..data → a timestamped folder. An update writes a new folder and swaps ..data atomically (a
// rename of a new link over the old one); the file itself is never written. Hot reload must see it.
import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { WeightsStore } from '../../../router/src/weights/store.ts';
import { until } from '../../helpers/router.ts';

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
