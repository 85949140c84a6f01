// npm run bench:drift (needs SENTIMENT_DATA_DIR): drift monitoring through a real router in front
// of a real replica (1.1.0, whose bundle carries its reference profile on SST dev), with the
// router's drift defaults (the last 1,000 predictions, at least 300, α = 0.001 per look).
//  1. False alarms: SST test sentences, shuffled and replayed, GET /admin/drift read every 100
//     requests once the window is full; the share of looks that say "drifted".
//  2. Shifted streams, each after the window is full of SST test again: requests until the first
//     look (every 25) that says "drifted", with the test that caught it, its statistic, p-value,
//     threshold and window.
// Written to bench/RESULTS.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { closedLoop } from '../shared/load/closed-loop.ts';
import { Random } from '../shared/random.ts';
import { ROOT, startProcess } from '../testkit/processes.ts';
import type { DriftView } from '../router/src/drift/schema.ts';
import { describeMachine } from './lib/machine.ts';
import { writeSection } from './lib/results-file.ts';

const data = process.env.SENTIMENT_DATA_DIR;
if (!data || !fs.existsSync(path.join(data, 'sst3', 'test.tsv'))) {
  console.error('bench:drift needs SENTIMENT_DATA_DIR (a folder with sst3/test.tsv and sst3-phrases/train.tsv)');
  process.exit(2);
}
const read = (file: string, column: string) => {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const i = header.split('\t').indexOf(column);
  return rows.map((r) => r.split('\t')[i]);
};
const random = new Random(5);
const test = random.shuffle(read(path.join(data, 'sst3', 'test.tsv'), 'sentence'));
const phrases = random.shuffle(read(path.join(data, 'sst3-phrases', 'train.tsv'), 'phrase').filter((p) => p.split(' ').length >= 2)).slice(0, 20_000);

const REPLAY = 100_000;
const LOOK_EVERY = 100;
const SHIFT_LOOK_EVERY = 25;
const SHIFT_MAX = 3000;
const TOKEN = 'bench-drift-admin-token-0123456789';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-drift-'));
const replica = await startProcess({ MODEL_DIR: path.join(ROOT, 'models/sentiment/1.1.0'), PORT: '0', INFERENCE_WORKERS: '0', BATCH_MAX_WAIT_MS: '0' });
const weights = path.join(dir, 'weights.yaml');
fs.writeFileSync(weights, `environments:\n  green: { weight: 100, replicas: [${replica.url}] }\n`);
const router = await startProcess({ ROUTER_WEIGHTS_FILE: weights, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_RATE_LIMIT_MAX: '100000000', ROUTER_GUARD_MODE: 'off' }, path.join(ROOT, 'router/src/server.ts'));

const drift = async (): Promise<DriftView['environments'][number] | undefined> => {
  const res = await request(`${router.url}/admin/drift`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.body.json()) as DriftView).environments[0];
};

/** Sends `texts` in order, 8 at a time; `look` runs after every `every` answers (in order of completion). */
async function send(texts: string[], every: number, look: (sent: number) => Promise<boolean>): Promise<void> {
  let answered = 0;
  let stopped = false;
  let checking = Promise.resolve();
  const loop = closedLoop(
    async (i) => {
      const res = await request(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: texts[i] }) });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`/predict answered ${res.statusCode}`);
      answered++;
      if (answered % every === 0 && !stopped) {
        const n = answered;
        checking = checking.then(async () => {
          if (!stopped && (await look(n))) {
            stopped = true;
            loop.stop();
          }
        });
      }
    },
    { concurrency: 8, total: texts.length, maxMs: 10 * 60_000 },
  );
  await loop.done;
  await checking;
}

const cycle = (texts: string[], n: number, map: (t: string) => string = (t) => t) => Array.from({ length: n }, (_, i) => map(texts[i % texts.length]));

try {
  const started = Date.now();
  // 1. The unshifted stream.
  let looks = 0;
  let flagged = 0;
  const flaggedBy: Record<string, number> = {};
  await send(cycle(test, REPLAY), LOOK_EVERY, async (n) => {
    if (n < 1000) return false;
    const d = await drift();
    looks++;
    if (d?.drifted) {
      flagged++;
      for (const t of d.tests.filter((x) => !x.passed)) flaggedBy[t.name] = (flaggedBy[t.name] ?? 0) + 1;
    }
    return false;
  });
  const replaySeconds = Math.round((Date.now() - started) / 1000);

  // 2. Shifted streams, each from a window full of SST test.
  const shifts: { name: string; texts: string[] }[] = [
    { name: 'truncated: the first three words of each SST test sentence', texts: cycle(test, SHIFT_MAX, (t) => t.split(' ').slice(0, 3).join(' ')) },
    { name: 'another kind of text: SST phrases of two words or more (fragments, not sentences)', texts: phrases.slice(0, SHIFT_MAX) },
    { name: 'unseen vocabulary: each word of an SST test sentence reversed (a stand-in for another language)', texts: cycle(test, SHIFT_MAX, (t) => t.split(' ').map((w) => [...w].reverse().join('')).join(' ')) },
    { name: 'another script: SST test sentences with letters swapped for Cyrillic look-alikes', texts: cycle(test, SHIFT_MAX, (t) => t.replace(/[aceopxy]/g, (c) => ({ a: 'а', c: 'с', e: 'е', o: 'о', p: 'р', x: 'х', y: 'у' })[c] ?? c)) },
    { name: 'shouting: SST test sentences in capitals with "!!!" (the tokenizer lowercases)', texts: cycle(test, SHIFT_MAX, (t) => `${t.toUpperCase()} !!!`) },
    { name: 'unshifted: SST test sentences (control)', texts: cycle(test.slice(1000), SHIFT_MAX) },
  ];
  const rows: string[] = [];
  for (const shift of shifts) {
    await send(cycle(test, 1000), 1000, async () => false);
    let caught: { at: number; d: NonNullable<Awaited<ReturnType<typeof drift>>> } | null = null;
    await send(shift.texts, SHIFT_LOOK_EVERY, async (n) => {
      const d = await drift();
      if (d?.drifted) caught = { at: n, d };
      return d?.drifted ?? false;
    });
    const c = caught as { at: number; d: NonNullable<Awaited<ReturnType<typeof drift>>> } | null;
    const failed = c ? c.d.tests.filter((t) => !t.passed) : [];
    rows.push(
      `| ${shift.name} | ${c ? c.at : `not within ${SHIFT_MAX}`} | ${failed.map((t) => `${t.name} (${t.method}): statistic ${t.statistic}, p ${t.p_value} < ${t.threshold}, window ${t.window}`).join('; ') || '—'} |`,
    );
    process.stdout.write(`${rows.at(-1)}\n`);
  }

  const markdown = `## Drift monitoring (\`npm run bench:drift\`)

${new Date().toISOString().slice(0, 10)}, ${describeMachine()}. One router (its drift defaults: the last 1,000 predictions
of each environment and version, tested once 300 are in, α = 0.001 per environment and look shared by its tests) in
front of one replica of 1.1.0, whose metadata holds its reference profile on SST dev (1,101 sentences). Every request a
real \`/predict\`; \`GET /admin/drift\` read as below.

**False alarms:** ${REPLAY.toLocaleString('en-US')} SST test sentences (2,210, shuffled, replayed in turn; ${replaySeconds} s), drift read every
${LOOK_EVERY} requests once the window was full: **${flagged} of ${looks} looks said "drifted"** (${((flagged / Math.max(1, looks)) * 100).toFixed(1)}%)${flagged ? `, by ${Object.entries(flaggedBy).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}.
Looks 100 requests apart share 900 of their 1,000 predictions, so they are far from independent.

**Shifted streams**, each sent after 1,000 SST test sentences had filled the window, drift read every ${SHIFT_LOOK_EVERY} requests:

| stream | requests until flagged | tests that flagged it |
| --- | ---: | --- |
${rows.join('\n')}
`;
  writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'drift', markdown);
  process.stdout.write(markdown);
} finally {
  await router.stop('SIGTERM');
  await replica.stop('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
