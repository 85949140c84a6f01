// The offline gates a candidate passes before it meets traffic, each measured here on both the
// candidate and production's version through the serving code (bundle loader, tokenizer,
// onnxruntime): accuracy and macro-F1 on sst3 test not below production's by more than the stated
// margin, per-class recall floors, the behavioural suite's pass rate against production's, and one
// text's P95 latency within a factor of production's (or under a budget).
import path from 'node:path';
import { loadBundle, Predictor } from '../../../services/inference/index.ts';
import { readTsv } from '../../../models/tools/trainer/data.ts';
import { evaluateBundle } from '../../../models/tools/trainer/evaluate.ts';
import type { ClassificationReport } from '../../../models/tools/trainer/metrics.ts';
import { readSuite, runChecklist, type ChecklistResult } from './checklist.ts';
import type { ReleaseSettings } from './settings.ts';

export interface Gate {
  name: string;
  candidate: number;
  /** Production's figure (null: no version in production yet, or not compared). */
  production: number | null;
  /** What the candidate's figure must reach (at least), or stay within (latency: at most). */
  threshold: number;
  passed: boolean;
  /** "accuracy 0.695 ≥ 0.676 (production 0.686 − 0.01)". */
  detail: string;
}

export interface LatencyFigures {
  p50_ms: number;
  p95_ms: number;
  texts: number;
}

export interface OfflineResult {
  passed: boolean;
  gates: Gate[];
  dataset: string;
  evaluation: { candidate: ClassificationReport; production: ClassificationReport | null };
  checklist: { candidate: ChecklistResult; production: ChecklistResult | null };
  latency: { candidate: LatencyFigures; production: LatencyFigures | null };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Rounds of the latency measurement: each bundle's best round is kept (a busy machine slows a round, never speeds one up). */
const LATENCY_ROUNDS = 3;

const percentiles = (times: number[]): LatencyFigures => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50_ms: r3(at(0.5)), p95_ms: r3(at(0.95)), texts: sorted.length };
};

/** One text at a time, alternating between the bundles so both see the same machine, in rounds. */
async function timeOneByOne(dirs: string[], texts: string[]): Promise<LatencyFigures[]> {
  const loaded = await Promise.all(dirs.map((dir) => loadBundle(dir, { workers: 0, intraOpThreads: 1, interOpThreads: 1 })));
  try {
    const predictors = loaded.map((b) => new Predictor(b, { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 4, concurrency: 1 }));
    for (const text of texts.slice(0, 20)) for (const p of predictors) await p.predict([text]); // warm-up
    const best: (LatencyFigures | null)[] = dirs.map(() => null);
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      const times = dirs.map(() => [] as number[]);
      for (const text of texts) {
        for (const [i, p] of predictors.entries()) {
          const started = process.hrtime.bigint();
          await p.predict([text]);
          times[i].push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }
      times.forEach((t, i) => {
        const figures = percentiles(t);
        if (!best[i] || figures.p95_ms < best[i]!.p95_ms) best[i] = figures;
      });
    }
    return best as LatencyFigures[];
  } finally {
    await Promise.all(loaded.map((b) => b.classifier.release()));
  }
}

export async function offlineGates(candidate: string, production: string | null, settings: ReleaseSettings['offline'], dataDir: string, root: string, say: (line: string) => void): Promise<OfflineResult> {
  const dataset = 'sst3/test.tsv';
  const test = readTsv(path.join(dataDir, dataset));
  say(`evaluating on ${dataset} (${test.length} texts)`);
  const [cEval, pEval] = [await evaluateBundle(candidate, test), production ? await evaluateBundle(production, test) : null];
  const suite = readSuite(path.resolve(root, settings.checklist));
  say(`behavioural suite ${settings.checklist} (${suite.tests.length} tests)`);
  const [cList, pList] = [await runChecklist(candidate, suite, settings.checklist), production ? await runChecklist(production, suite, settings.checklist) : null];
  const texts = test.slice(0, settings.latency_texts).map((e) => e.text);
  say(`latency: ${texts.length} texts one at a time${production ? ', alternating with production' : ''}, the best of ${LATENCY_ROUNDS} rounds`);
  const [cLat, pLat = null] = await timeOneByOne(production ? [candidate, production] : [candidate], texts);

  const gates: Gate[] = [];
  const notBelow = (name: string, mine: number, theirs: number | null, margin: number) => {
    const threshold = theirs === null ? 0 : theirs - margin;
    gates.push({ name, candidate: r3(mine), production: theirs === null ? null : r3(theirs), threshold: r3(threshold), passed: mine >= threshold - 1e-9, detail: `${name} ${r3(mine)} ${mine >= threshold - 1e-9 ? '≥' : '<'} ${r3(threshold)}${theirs === null ? ' (no production version)' : ` (production ${r3(theirs)} − ${margin})`}` });
  };
  notBelow('accuracy', cEval.accuracy, pEval?.accuracy ?? null, settings.max_accuracy_drop);
  notBelow('macro_f1', cEval.macro_f1, pEval?.macro_f1 ?? null, settings.max_macro_f1_drop);
  for (const [label, floor] of Object.entries(settings.min_recall)) {
    const mine = cEval.recall[label];
    if (mine === undefined) {
      gates.push({ name: `recall_${label}`, candidate: 0, production: null, threshold: floor, passed: false, detail: `recall of ${label}: the candidate has no class "${label}"` });
      continue;
    }
    gates.push({ name: `recall_${label}`, candidate: r3(mine), production: pEval ? r3(pEval.recall[label] ?? 0) : null, threshold: floor, passed: mine >= floor, detail: `recall of ${label} ${r3(mine)} ${mine >= floor ? '≥' : '<'} floor ${floor}` });
  }
  notBelow('checklist_pass_rate', cList.pass_rate, pList?.pass_rate ?? null, settings.max_checklist_drop);
  const latencyLimit = Math.max(settings.latency_budget_ms, pLat ? pLat.p95_ms * settings.latency_factor : 0);
  const latencyOk = cLat.p95_ms <= latencyLimit;
  gates.push({
    name: 'latency_p95_ms',
    candidate: cLat.p95_ms,
    production: pLat?.p95_ms ?? null,
    threshold: r2(latencyLimit),
    passed: latencyOk,
    detail: `one text's P95 ${cLat.p95_ms} ms ${latencyOk ? '≤' : '>'} ${r2(latencyLimit)} ms (the larger of ${settings.latency_factor} × production's ${pLat?.p95_ms ?? '-'} ms and the ${settings.latency_budget_ms} ms budget)`,
  });
  return { passed: gates.every((g) => g.passed), gates, dataset, evaluation: { candidate: cEval, production: pEval }, checklist: { candidate: cList, production: pList }, latency: { candidate: cLat, production: pLat } };
}
