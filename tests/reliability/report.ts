// Writes the reliability table in docs/reliability.md from the figures the suite left in
// tests/artifacts/reliability/ (npm run test:reliability runs the long suite, then this).
import fs from 'node:fs';
import path from 'node:path';
import { writeSection } from '../../bench/lib/results-file.ts';
import { ROOT } from '../../testkit/processes.ts';
import { RESULTS_DIR, type Figures } from './harness.ts';

const ORDER = ['Replica killed', 'Replica hung', 'Environment down', 'Slow replica', 'Resetting replica', 'Black-holed replica', 'Link cut', 'Router killed', 'Router killed mid-rollout', 'Controller killed', 'State store killed', 'Overload', 'Weights file abused', 'Killed mid-change', 'Killed after acknowledging', 'Oversized body', 'Hostile input', 'Security'];

const rows = fs
  .readdirSync(RESULTS_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as Figures & { mode: string; at: string })
  .sort((a, b) => ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario));
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const failed = (r: Figures) => (r.failed === 0 ? '0' : `${r.failed} (${Object.entries(r.failures).map(([k, v]) => `${k}: ${v}`).join(', ')})`);
const ms = (v: number | null) => (v === null ? '–' : `${v}`);
const modes = [...new Set(rows.map((r) => r.mode))].join(', ');
const dates = rows.map((r) => r.at).sort();

const table = [
  `Measured by \`npm run test:reliability\` (${modes} run, ${dates[0]?.slice(0, 10)}), on this project's 2-core machine with the load generator, the router and the replicas sharing the cores.`,
  '',
  '| scenario | what was done | requests | failed | P99 ms | worst ms | what recovered, and how fast |',
  '| --- | --- | ---: | --- | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.scenario} | ${cell(r.what)} | ${r.sent || '–'} | ${cell(failed(r))} | ${ms(r.p99_ms)} | ${ms(r.worst_ms)} | ${cell(r.recovery)} |`),
].join('\n');

writeSection(path.join(ROOT, 'docs/reliability.md'), 'faults', table);
console.log(`docs/reliability.md: ${rows.length} scenarios`);
