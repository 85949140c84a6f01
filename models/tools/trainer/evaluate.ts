// Evaluates a bundle through the same code path the API uses (bundle loader, tokenizer, micro-
// batcher, onnxruntime) and records the result in its metadata.json.
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadBundle, Predictor, type Prediction } from '../../../services/inference/index.ts';
import { BUNDLE_FILES } from '../../../shared/bundle/layout.ts';
import { ProfileBuilder } from '../../../shared/drift/profile.ts';
import { lineageOf } from '../../../shared/bundle/lineage.ts';
import { writeManifest } from '../../../shared/bundle/manifest.ts';
import { readTsv } from './data.ts';
import type { LabelledText } from './data.ts';
import { json, round } from './export-bundle.ts';
import { classificationReport, type ClassificationReport } from './metrics.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Each text's prediction, and the bundle's classes. */
export async function predictAll(dir: string, texts: string[]): Promise<{ predictions: Prediction[]; classes: string[] }> {
  const bundle = await loadBundle(dir, { workers: 1, intraOpThreads: 1, interOpThreads: 1 });
  const predictor = new Predictor(bundle, { maxBatchSize: 64, maxWaitMs: 0, maxQueue: texts.length, concurrency: 1 });
  try {
    return { predictions: await predictor.predict(texts), classes: [...bundle.labels] };
  } finally {
    await bundle.classifier.release();
  }
}

/** Each text's predicted label, and the bundle's classes. */
export async function predictLabels(dir: string, texts: string[]): Promise<{ labels: string[]; classes: string[] }> {
  const { predictions, classes } = await predictAll(dir, texts);
  return { labels: predictions.map((p) => p.sentiment), classes };
}

export async function evaluateBundle(dir: string, examples: LabelledText[]): Promise<ClassificationReport> {
  const { labels, classes } = await predictLabels(dir, examples.map((e) => e.text));
  return classificationReport(classes, examples.map((e) => e.label), labels);
}

const roundAll = (values: Record<string, number>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v)]));

/** A report as metadata.json records it, rounded. */
export const evaluationEntry = (dataset: string, report: ClassificationReport) => ({
  dataset,
  examples: report.examples,
  accuracy: round(report.accuracy),
  macro_f1: round(report.macro_f1),
  recall: roundAll(report.recall),
  precision: roundAll(report.precision),
  f1: roundAll(report.f1),
});

/** Writes the report under metrics.<key> of the bundle's metadata.json. */
export async function recordEvaluation(dir: string, key: string, dataset: string, report: ClassificationReport): Promise<void> {
  const file = path.join(dir, BUNDLE_FILES.metadata);
  const metadata = JSON.parse(await fs.readFile(file, 'utf8'));
  metadata.metrics = { ...metadata.metrics, [key]: evaluationEntry(dataset, report) };
  await fs.writeFile(file, json(metadata));
}

/**
 * Writes the bundle's drift reference (shared/drift/profile.ts) under drift_reference of its
 * metadata.json: what it predicts on `dataset` (SST dev), the profile live traffic is tested against.
 */
export async function recordDriftReference(dir: string, dataset: string, texts: string[]): Promise<void> {
  const { predictions } = await predictAll(dir, texts);
  const profile = new ProfileBuilder(dataset);
  for (const p of predictions) profile.add(p.sentiment, p.confidence, p.pieces, p.unknown_pieces);
  const file = path.join(dir, BUNDLE_FILES.metadata);
  const metadata = JSON.parse(await fs.readFile(file, 'utf8'));
  metadata.drift_reference = profile.build();
  await fs.writeFile(file, json(metadata));
}

/**
 * What every tool that builds a bundle ends with: its drift reference on SST dev (when the data is
 * at hand), then its manifest (the sha256 of every file), written last so that it covers them all.
 */
export async function sealBundle(dir: string, data?: string, options: { parent?: string | null } = {}): Promise<void> {
  if (data) await recordDriftReference(dir, 'sst3/dev.tsv', readTsv(path.join(data, 'sst3/dev.tsv')).map((e) => e.text));
  const file = path.join(dir, BUNDLE_FILES.metadata);
  const metadata = JSON.parse(await fs.readFile(file, 'utf8'));
  const parent = options.parent !== undefined ? options.parent : (metadata.lineage?.parent_version ?? null);
  metadata.lineage = lineageOf(metadata, { dataDir: data, root: ROOT, parent });
  await fs.writeFile(file, json(metadata));
  const manifest = writeManifest(dir);
  console.log(`${dir}: manifest.json written (${Object.keys(manifest.files).length} files; npm run bundle:manifest -- ${dir} --sign <key> signs it)`);
}
