// Config faults: the weights file deleted, emptied, replaced with garbage, made unreadable and
// rewritten a hundred times in a second while predictions flow; the last good weights keep
// serving and GET /admin/config says why. And a process killed in the middle of weight changes,
// many times over: the file on disk is always a whole version, and never older than the last one
// acknowledged.
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { parseWeights } from '../../router/index.ts';
import { ROOT } from '../../testkit/processes.ts';
import { until } from '../helpers/router.ts';
import { adminHeaders, closedLoad, LONG, record, startTopology, summary } from './harness.ts';

interface ConfigView {
  generation: number;
  environments: { name: string; weight: number }[];
  last_reload: { ok: boolean; failure: { path: string; message: string } | null };
}

t.test('abused weights files: the last good weights serve on, and the reason is shown', async (t) => {
  const topo = await startTopology(t, { blue: 1, green: 1 }, { weights: { blue: 3, green: 1 } });
  const file = topo.weightsFile;
  const good = await fs.readFile(file, 'utf8');
  const config = async () => (await (await request(`${topo.router.url}/admin/config`, { headers: adminHeaders })).body.json()) as ConfigView;
  const weights = async () => (await config()).environments.map((e) => `${e.name}=${e.weight}`).join(' ');
  const inForce = await weights();
  const load = closedLoad(topo.router.url, { concurrency: 4, maxMs: 180_000 });
  t.teardown(() => load.stop());

  const abuses: { name: string; apply: () => Promise<void>; reason: RegExp }[] = [
    { name: 'deleted', apply: () => fs.rm(file), reason: /is missing/ },
    { name: 'emptied', apply: () => fs.writeFile(file, ''), reason: /empty/ },
    { name: 'truncated mid-line', apply: () => fs.writeFile(file, good.slice(0, good.length - 12)), reason: /./ },
    { name: 'garbage', apply: () => fs.writeFile(file, Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x3a, 0x7b, 0x7b, 0x0a, 0x2d, 0x20])), reason: /./ },
    { name: 'made unreadable (a folder in its place)', apply: async () => (await fs.rm(file), await fs.mkdir(file)), reason: /cannot read/ },
  ];
  const seen: string[] = [];
  for (const abuse of abuses) {
    await abuse.apply();
    await until(async () => (await config()).last_reload.ok === false, 15_000);
    const view = await config();
    t.match(view.last_reload.failure?.message, abuse.reason, `${abuse.name}: the reason is shown (${view.last_reload.failure?.message})`);
    t.equal(await weights(), inForce, `${abuse.name}: the last good weights stay in force`);
    seen.push(`${abuse.name}: "${view.last_reload.failure?.message.slice(0, 60)}"`);
    await fs.rm(file, { recursive: true, force: true });
    await fs.writeFile(file, good);
    await until(async () => (await config()).last_reload.ok === true, 15_000);
  }

  // A hundred rewrites in a second, valid and invalid mixed; the last is valid and wins.
  const rewrites = LONG ? 1000 : 100;
  for (let i = 0; i < rewrites; i++) {
    const text = i % 3 === 1 ? 'environments: [not, a, map' : good.replace('weight: 3', `weight: ${i + 10}`);
    await fs.writeFile(file, text);
    await new Promise((resolve) => setTimeout(resolve, 1000 / 100)); // the storm's pace: 100 a second
  }
  const last = rewrites - 1 - ((rewrites - 1) % 3 === 1 ? 1 : 0);
  await fs.writeFile(file, good.replace('weight: 3', `weight: ${last + 10}`));
  await until(async () => (await weights()).startsWith(`blue=${last + 10} `), 15_000).catch(async (err) => {
    throw new Error(`${(err as Error).message}: in force ${await weights()}, ${JSON.stringify((await config()).last_reload)}`);
  });
  t.pass(`after ${rewrites} rewrites the last valid one is in force`);
  t.ok((await config()).last_reload.ok, 'and the reload failure is cleared');

  const figures = summary(await load.stop());
  t.equal(figures.failed, 0, `no prediction failed throughout (${figures.sent} sent)`);
  await record({
    scenario: 'Weights file abused',
    what: `weights file deleted, emptied, truncated, garbage, a folder in its place, then ${rewrites} rewrites at 100/s (a third invalid), under load at c=4`,
    ...figures,
    recovery: `each rejected and shown by GET /admin/config while the last good weights served (${seen.join('; ')}); the last valid rewrite in force`,
  });
});

t.test('a process killed in the middle of weight changes leaves a whole file, never older than acknowledged', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'durability-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'weights.yaml');
  const initial = '# the test writes this file\nenvironments:\n  blue: { weight: 0 }\n  green: { weight: 1 }\n';
  const kills = LONG ? 100 : 12;
  let changes = 0;
  for (let k = 0; k < kills; k++) {
    await fs.writeFile(file, initial); // each writer counts from 0
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests/reliability/fixtures/weights-writer.ts')], { cwd: ROOT, env: { ...process.env, WEIGHTS_FILE: file }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await until(() => /acked \d+/.test(out) || child.exitCode !== null, 60_000, 5);
    // Kill at a random moment among the changes that follow.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
    child.kill('SIGKILL');
    await exited;
    const acked = Number([...out.matchAll(/acked (\d+)/g)].at(-1)![1]);
    changes += acked;
    const text = await fs.readFile(file, 'utf8');
    const onDisk = parseWeights(text).environments.blue.weight; // throws on a partial file
    t.ok(onDisk === acked || onDisk === acked + 1, `kill ${k + 1}: on disk ${onDisk}, last acknowledged ${acked}`);
    t.match(text, /^# the test writes this file/, 'the comment survives every rewrite');
  }
  const leftovers = (await fs.readdir(dir)).filter((f) => f !== 'weights.yaml');
  t.ok(leftovers.length <= 1, `temporary files of killed writers are cleared at the next start (${leftovers.length} left: the last one's)`);
  await record({
    scenario: 'Killed mid-change',
    what: `SIGKILL a process writing weights as fast as it can, ${kills} times (${changes} acknowledged changes in all)`,
    sent: kills,
    failed: 0,
    failures: {},
    p99_ms: null,
    worst_ms: null,
    recovery: `every time the file was whole and held the last acknowledged change or the one in flight; a killed writer's temporary file is removed by the next start (${leftovers.length} left at the end)`,
  });
});
