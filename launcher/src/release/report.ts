// The release report: what the release decided and on what, as Markdown for a person and JSON for
// a pipeline, written when the release ends (and again by a resumed one).
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEntry } from '../../../router/src/history/schema.ts';
import type { ReleaseRecord } from '../../../router/src/registry/schema.ts';
import type { OfflineResult } from './gates.ts';
import type { ReleaseOutcome } from './runner.ts';
import type { ReleaseSettings } from './settings.ts';

export interface ReportContext {
  bundle: string;
  model: string;
  version: string;
  settings: ReleaseSettings;
  lineage: unknown;
}

const cell = (v: unknown) => String(v ?? '-').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells: unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head: string[], rows: unknown[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

function offlineSection(result: OfflineResult): string {
  const { checklist, latency, evaluation } = result;
  const tests = checklist.candidate.tests.map((t, i) => [t.capability, t.name, t.type, t.cases, pct(t.pass_rate), pct(checklist.production?.tests[i]?.pass_rate), t.failures[0] ? `${t.failures[0].texts.join(' / ')} → ${t.failures[0].labels.join(' / ')}` : '']);
  return [
    '## Offline gates',
    '',
    table(['gate', 'candidate', 'production', 'threshold', 'result'], result.gates.map((g) => [g.name, g.candidate, g.production, g.threshold, g.passed ? 'pass' : `**fail**: ${g.detail}`])),
    '',
    `On ${result.dataset} (${evaluation.candidate.examples} texts): accuracy ${pct(evaluation.candidate.accuracy)} (production ${pct(evaluation.production?.accuracy)}), macro-F1 ${pct(evaluation.candidate.macro_f1)} (${pct(evaluation.production?.macro_f1)}), recall ${Object.entries(evaluation.candidate.recall).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}.`,
    `One text at a time through the serving code: candidate P50 ${latency.candidate.p50_ms} ms / P95 ${latency.candidate.p95_ms} ms; production ${latency.production ? `${latency.production.p50_ms} / ${latency.production.p95_ms} ms` : '-'} (${latency.candidate.texts} texts each, alternating, the best of three rounds).`,
    '',
    `### Behavioural suite (${checklist.candidate.suite}): ${pct(checklist.candidate.pass_rate)} against production's ${pct(checklist.production?.pass_rate)}`,
    '',
    table(['capability', 'test', 'type', 'cases', 'candidate', 'production', 'a failing case (candidate)'], tests),
  ].join('\n');
}

export function releaseMarkdown(outcome: ReleaseOutcome, context: ReportContext): string {
  const r: ReleaseRecord | null = outcome.record;
  const title = `# Release of ${context.model} ${context.version}: ${outcome.state.replace('_', ' ')}`;
  if (!r) return [title, '', `Refused before anything was recorded: ${outcome.refusal}`, ''].join('\n');
  const step = (name: string) => r.steps.find((s) => s.name === name);
  const gates = step('offline_gates')?.details as OfflineResult | undefined;
  const shadow = step('shadow')?.details as Record<string, unknown> | undefined;
  const decisions = (entries: HistoryEntry[]) => table(['at', 'kind', 'action', 'decision'], entries.map((e) => [e.at, e.kind, e.action, e.message]));
  return [
    title,
    '',
    `- release: \`${r.id}\`, run by ${r.holder}, ${r.started_at} → ${r.updated_at}`,
    `- outcome: ${r.outcome ?? '-'}`,
    `- bundle: \`${context.bundle}\` (manifest sha256 \`${r.digest}\`)`,
    `- lineage: ${context.lineage ? `\`${JSON.stringify(context.lineage)}\`` : 'none recorded'}`,
    `- production before: ${String(r.facts.production_version ?? '-')}, served by ${String(r.facts.baseline_environment ?? '-')}; the candidate went to ${r.environment}${r.facts.rollout_id ? `; rollout \`${String(r.facts.rollout_id)}\`` : ''}`,
    '',
    '## Steps',
    '',
    table(['step', 'result', 'started', 'finished', 'summary'], r.steps.map((s) => [s.name, s.state, s.started_at, s.finished_at, s.summary])),
    '',
    ...(gates?.gates ? [offlineSection(gates), ''] : []),
    ...(shadow ? ['## Shadow', '', `${String(shadow.compared ?? 0)} mirrored requests compared: label agreement with production ${pct(shadow.label_agreement as number | null)}, mean confidence delta ${String(shadow.mean_confidence_delta ?? '-')}, mean latency delta ${String(shadow.mean_latency_delta_ms ?? '-')} ms, ${String(shadow.failed ?? 0)} failed, ${String(shadow.dropped ?? 0)} dropped.`, ''] : []),
    '## Decisions (GET /admin/history)',
    '',
    outcome.decisions.length ? decisions(outcome.decisions) : 'none',
    '',
    '## Settings in force',
    '',
    '```json',
    JSON.stringify(context.settings, null, 2),
    '```',
    '',
  ].join('\n');
}

/** Writes <id>.md and <id>.json (or refused-<model>-<version>.*) into `dir`; answers their paths. */
export function writeReleaseReport(dir: string, outcome: ReleaseOutcome, context: ReportContext): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, outcome.record?.id ?? `refused-${context.model}-${context.version}`);
  fs.writeFileSync(`${base}.md`, releaseMarkdown(outcome, context));
  fs.writeFileSync(`${base}.json`, `${JSON.stringify({ state: outcome.state, refusal: outcome.refusal ?? null, release: outcome.record, decisions: outcome.decisions, bundle: context.bundle, lineage: context.lineage, settings: context.settings }, null, 2)}\n`);
  return [`${base}.md`, `${base}.json`];
}
