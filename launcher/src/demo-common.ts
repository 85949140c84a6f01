// What both demos start from: the running `npm start` (its router and admin token), the router's
// typed client with and without the token, and the labelled sentences (SENTIMENT_DATA_DIR's SST
// test split, or the sample in deploy/demo/).
import fs from 'node:fs';
import path from 'node:path';
import { routerClient } from '../../clients/router.ts';
import { loadLauncherConfig } from './config.ts';
import { failWith, ROOT } from './paths.ts';
import { findRunning } from './running.ts';

export interface LabelledSentence {
  text: string;
  label: 'negative' | 'neutral' | 'positive';
}

export const say = (line: string): void => void process.stdout.write(`demo: ${line}\n`);
export const fail: (message: string) => never = failWith('demo');

export function demoSetup() {
  let running;
  try {
    running = findRunning(ROOT, loadLauncherConfig());
  } catch (err) {
    fail((err as Error).message);
  }
  const dataDir = process.env.SENTIMENT_DATA_DIR;
  const file = dataDir && fs.existsSync(path.join(dataDir, 'sst3', 'test.tsv')) ? path.join(dataDir, 'sst3', 'test.tsv') : path.join(ROOT, 'deploy', 'demo', 'sst3-sample.tsv');
  const [header, ...rows] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const columns = header.split('\t');
  const sentences: LabelledSentence[] = rows.map((r) => r.split('\t')).map((c) => ({ text: c[columns.indexOf('sentence')], label: c[columns.indexOf('label')] as LabelledSentence['label'] }));
  return {
    // The generated client (clients/router.ts): the admin API with the token, the public API without.
    admin: routerClient(running.routerUrl, { adminToken: running.token }),
    api: routerClient(running.routerUrl),
    sentences,
    source: path.relative(process.cwd(), file),
  };
}
