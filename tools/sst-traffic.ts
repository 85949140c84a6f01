// Steady traffic for a running deployment: labelled SST test sentences posted to /predict at a fixed
// rate (open loop: as independent clients arrive), until the time is up or SIGINT; the last line
// is a JSON count of what was sent, answered and failed, per environment.
//   npx tsx tools/sst-traffic.ts [--url http://127.0.0.1:8080] [--rate 50] [--seconds 600]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { readTsv } from '../models/tools/trainer/data.ts';

const { values } = parseArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:8080' }, rate: { type: 'string', default: '50' }, seconds: { type: 'string', default: '600' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
if (!(rate > 0 && rate <= 2000) || !(seconds > 0)) throw new Error('--rate must be 1 to 2000 per second and --seconds positive');
const dataDir = process.env.SENTIMENT_DATA_DIR;
if (!dataDir) throw new Error('set SENTIMENT_DATA_DIR to the folder holding sst3/');
const texts = readTsv(path.join(dataDir, 'sst3/test.tsv')).map((e) => e.text);

const counts = { sent: 0, answered: 0, failed: 0, by_environment: {} as Record<string, number>, failures: [] as string[] };
const inFlight = new Set<Promise<void>>();
const started = Date.now();
const send = async (text: string) => {
  counts.sent++;
  try {
    const res = await request(`${values.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    const body = await res.body.text();
    if (res.statusCode === 200) {
      counts.answered++;
      const env = String(res.headers['x-environment']);
      counts.by_environment[env] = (counts.by_environment[env] ?? 0) + 1;
    } else {
      counts.failed++;
      if (counts.failures.length < 10) counts.failures.push(`${res.statusCode} ${body.slice(0, 200)}`);
    }
  } catch (err) {
    counts.failed++;
    if (counts.failures.length < 10) counts.failures.push((err as Error).message);
  }
};
const tick = setInterval(() => {
  if (Date.now() - started > seconds * 1000) return void finish();
  const due = Math.floor(((Date.now() - started) * rate) / 1000) - counts.sent;
  for (let i = 0; i < due && inFlight.size < 1000; i++) {
    const p = send(texts[counts.sent % texts.length]).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
}, 10);
const report = setInterval(() => process.stdout.write(`traffic: ${counts.sent} sent, ${counts.answered} answered, ${counts.failed} failed\n`), 10_000);
let finishing = false;
async function finish(): Promise<void> {
  if (finishing) return;
  finishing = true;
  clearInterval(tick);
  clearInterval(report);
  await Promise.all(inFlight);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
}
process.on('SIGINT', () => void finish());
process.on('SIGTERM', () => void finish());
