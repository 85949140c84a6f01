// `npm run bench:sequential`: what the report's and the rollout analysis's accuracy comparison
// (router/src/stats/sequential.ts) does when read at every step, by simulation: the share of A/A
// experiments it calls different (its false alarms, against the stated α = 5%), beside the
// fixed-sample z-test read the same way; and the share of real differences it finds (its power),
// with the labels it took. Seeded: the same table on every run. Written to bench/RESULTS.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEQUENTIAL_DEFAULTS } from '../router/src/stats/sequential.ts';
import { simulate, zTestLook, type SimulationSpec } from '../testkit/sequential-sim.ts';
import { writeSection } from './lib/results-file.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXPERIMENTS = 1000;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const aa: { label: string; spec: Omit<SimulationSpec, 'seed' | 'experiments'> }[] = [
  { label: '50% both, equal split, look every 10 labels', spec: { candidate: 0.5, baseline: 0.5, maxCandidate: 10_000, every: 10 } },
  { label: '70% both, equal split, look every 10 labels', spec: { candidate: 0.7, baseline: 0.7, maxCandidate: 10_000, every: 10 } },
  { label: '90% both, equal split, look every 10 labels', spec: { candidate: 0.9, baseline: 0.9, maxCandidate: 10_000, every: 10 } },
  { label: '70% both, after every label', spec: { candidate: 0.7, baseline: 0.7, maxCandidate: 2000, every: 1 } },
  { label: '70% both, 95/5 canary split, look every 5 candidate labels', spec: { candidate: 0.7, baseline: 0.7, maxCandidate: 1000, ratio: 19, every: 5 } },
];
const ab: { label: string; spec: Omit<SimulationSpec, 'seed' | 'experiments'> }[] = [
  { label: '71% against 70%', spec: { candidate: 0.71, baseline: 0.7, maxCandidate: 10_000, every: 50 } },
  { label: '72% against 70%', spec: { candidate: 0.72, baseline: 0.7, maxCandidate: 10_000, every: 50 } },
  { label: '73% against 70%', spec: { candidate: 0.73, baseline: 0.7, maxCandidate: 10_000, every: 50 } },
  { label: '67% against 70%', spec: { candidate: 0.67, baseline: 0.7, maxCandidate: 10_000, every: 50 } },
  { label: '75% against 70%', spec: { candidate: 0.75, baseline: 0.7, maxCandidate: 10_000, every: 50 } },
  { label: '60% against 70%', spec: { candidate: 0.6, baseline: 0.7, maxCandidate: 10_000, every: 10 } },
  { label: '40% against 70%', spec: { candidate: 0.4, baseline: 0.7, maxCandidate: 10_000, every: 10 } },
  { label: '67% against 70%, 95/5 canary split', spec: { candidate: 0.67, baseline: 0.7, maxCandidate: 2000, ratio: 19, every: 10 } },
];

const started = Date.now();
const aaRows = aa.map(({ label, spec }, i) => {
  const seq = simulate({ ...spec, experiments: EXPERIMENTS, seed: 100 + i });
  const z = simulate({ ...spec, experiments: EXPERIMENTS, seed: 100 + i, look: zTestLook });
  const max = `${spec.maxCandidate.toLocaleString('en-US')}${spec.ratio ? ` (baseline ${(spec.maxCandidate * spec.ratio).toLocaleString('en-US')})` : ''}`;
  return `| ${label} | ${max} | ${pct(seq.decided)} | ${pct(z.decided)} |`;
});
const abRows = ab.map(({ label, spec }, i) => {
  const seq = simulate({ ...spec, experiments: EXPERIMENTS, seed: 200 + i });
  const max = `${spec.maxCandidate.toLocaleString('en-US')}${spec.ratio ? ` (baseline ${(spec.maxCandidate * spec.ratio).toLocaleString('en-US')})` : ''}`;
  return `| ${label} | ${max} | ${pct(seq.decided)} | ${seq.medianAt ?? '—'} | ${seq.wrongWay} |`;
});

const markdown = `## Sequential comparison of accuracies (\`npm run bench:sequential\`)

${new Date().toISOString().slice(0, 10)}, simulated (seeded, ${((Date.now() - started) / 1000).toFixed(0)} s): ${EXPERIMENTS.toLocaleString('en-US')} experiments per row, labels drawn with the
accuracies shown, each experiment stopped at its first decision. The test is the report's and the rollout
analysis's (router/src/stats/sequential.ts): a mixture SPRT, α = ${SEQUENTIAL_DEFAULTS.alpha}, mixing over τ = ${SEQUENTIAL_DEFAULTS.taus.join(', ')}, nothing concluded
under ${SEQUENTIAL_DEFAULTS.minEach} labels a side. Beside it, the fixed-sample two-proportion z-test (p < 0.05) the report used
before, read at the same looks.

A/A (no difference): the share of experiments called different, which the test bounds by α however often it is read.

| experiment | candidate labels at most | called different: sequential | called different: z-test read at every look |
| --- | ---: | ---: | ---: |
${aaRows.join('\n')}

A/B (a real difference): the share found (power) and the candidate labels it took.

| experiment | candidate labels at most | found | median labels when found | called the wrong way |
| --- | ---: | ---: | ---: | ---: |
${abRows.join('\n')}
`;
writeSection(path.join(ROOT, 'bench', 'RESULTS.md'), 'sequential', markdown);
process.stdout.write(markdown);
