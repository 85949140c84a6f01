// Loads and validates a model bundle at start-up. Every problem becomes one BundleError naming the
// file and what is wrong, so a bad bundle fails the boot, never the first request.
import fs from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import { BundleError } from '../../../../shared/errors.ts';
import { BUNDLE_FILES, REQUIRED_FILES } from '../../../../shared/bundle/layout.ts';
import { BundleMetadata, ModelConfigFile, TokenizerConfigFile, TokenizerFile } from '../../../../shared/bundle/schemas.ts';
import { TextEncoder } from '../model/text-encoder.ts';
import { Classifier, SUPPORTED_INPUTS, type ModelInput, type OutputKind } from '../model/classifier.ts';

export interface RuntimeOptions {
  intraOpThreads: number;
  interOpThreads: number;
}

export interface LoadedBundle {
  dir: string;
  name: string;
  version: string;
  labels: string[];
  metadata: BundleMetadata;
  encoder: TextEncoder;
  classifier: Classifier;
  inputs: readonly ModelInput[];
  output: { name: string; kind: OutputKind };
}

const OUTPUT_NAMES: Record<string, OutputKind> = { logits: 'logits', probabilities: 'probabilities', probs: 'probabilities' };
const DEFAULT_MAX_LENGTH = 512;

async function readJson<T extends TSchema>(dir: string, file: string, schema: T, optional = false): Promise<Static<T> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, file), 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BundleError(path.join(dir, file), 'cannot be read', { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BundleError(path.join(dir, file), `is not valid JSON (${(err as Error).message})`);
  }
  const error = Value.Errors(schema, parsed).First();
  if (error) throw new BundleError(path.join(dir, file), `field ${error.path || '/'} ${error.message}`);
  return parsed as Static<T>;
}

function labelsFrom(config: ModelConfigFile, file: string): string[] {
  const ids = Object.keys(config.id2label).map(Number).sort((a, b) => a - b);
  ids.forEach((id, i) => {
    if (id !== i) throw new BundleError(file, `id2label must number its labels 0..${ids.length - 1} without gaps (found ${ids.join(',')})`);
  });
  return ids.map((id) => config.id2label[String(id)]);
}

function maxLengthOf(config: ModelConfigFile, tokConfig: TokenizerConfigFile | undefined, tokenizerJson: TokenizerFile): number {
  const candidates = [
    config.max_position_embeddings,
    tokConfig?.model_max_length,
    (tokenizerJson.truncation as { max_length?: number } | null)?.max_length,
  ].filter((v): v is number => typeof v === 'number' && v > 0 && v < 1e6);
  return candidates.length ? Math.min(...candidates) : DEFAULT_MAX_LENGTH;
}

async function openSession(file: string, runtime: RuntimeOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, {
      intraOpNumThreads: runtime.intraOpThreads,
      interOpNumThreads: runtime.interOpThreads,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new BundleError(file, `cannot be loaded by onnxruntime (${(err as Error).message.split('\n')[0]})`);
  }
}

function checkInputs(session: ort.InferenceSession, file: string): ModelInput[] {
  const inputs: ModelInput[] = [];
  for (const meta of session.inputMetadata) {
    if (!(SUPPORTED_INPUTS as readonly string[]).includes(meta.name)) {
      throw new BundleError(file, `graph input "${meta.name}" is not one of ${SUPPORTED_INPUTS.join(', ')}`);
    }
    if (meta.isTensor && meta.type !== 'int64') {
      throw new BundleError(file, `graph input "${meta.name}" must be int64, found ${meta.type}`);
    }
    inputs.push(meta.name as ModelInput);
  }
  if (!inputs.includes('input_ids')) throw new BundleError(file, 'graph has no input_ids input');
  return inputs;
}

function checkOutput(session: ort.InferenceSession, file: string, labelCount: number): { name: string; kind: OutputKind } {
  const meta = session.outputMetadata.find((m) => m.name in OUTPUT_NAMES);
  if (!meta) {
    throw new BundleError(file, `graph has no logits or probabilities output (outputs: ${session.outputNames.join(', ')})`);
  }
  if (meta.isTensor) {
    if (meta.type !== 'float32') throw new BundleError(file, `output "${meta.name}" must be float32, found ${meta.type}`);
    const width = meta.shape[meta.shape.length - 1];
    if (meta.shape.length !== 2 || (typeof width === 'number' && width !== labelCount)) {
      throw new BundleError(file, `output "${meta.name}" has shape [${meta.shape.join(', ')}] but config.json id2label has ${labelCount} labels`);
    }
  }
  return { name: meta.name, kind: OUTPUT_NAMES[meta.name] };
}

export async function loadBundle(dir: string, runtime: RuntimeOptions, names: { name?: string; version?: string } = {}): Promise<LoadedBundle> {
  const abs = path.resolve(dir);
  const stat = await fs.stat(abs).catch(() => null);
  if (!stat?.isDirectory()) throw new BundleError(abs, 'bundle directory does not exist');
  for (const file of REQUIRED_FILES) {
    await fs.access(path.join(abs, file)).catch(() => {
      throw new BundleError(path.join(abs, file), 'is missing from the bundle');
    });
  }
  const configFile = path.join(abs, BUNDLE_FILES.config);
  const config = (await readJson(abs, BUNDLE_FILES.config, ModelConfigFile))!;
  const labels = labelsFrom(config, configFile);
  const tokConfig = await readJson(abs, BUNDLE_FILES.tokenizerConfig, TokenizerConfigFile, true);
  const metadata = (await readJson(abs, BUNDLE_FILES.metadata, BundleMetadata, true)) ?? {};
  const tokenizerFile = path.join(abs, BUNDLE_FILES.tokenizer);
  const tokenizerJson = (await readJson(abs, BUNDLE_FILES.tokenizer, TokenizerFile))!;

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, tokConfig ?? {});
    tokenizer.encode('warm up');
  } catch (err) {
    throw new BundleError(tokenizerFile, `is not a usable tokenizer (${(err as Error).message})`);
  }
  const padToken = tokConfig?.pad_token ?? '[PAD]';
  const encoder = new TextEncoder(tokenizer, maxLengthOf(config, tokConfig, tokenizerJson), padToken);

  const modelFile = path.join(abs, BUNDLE_FILES.model);
  const session = await openSession(modelFile, runtime);
  const inputs = checkInputs(session, modelFile);
  const output = checkOutput(session, modelFile, labels.length);
  const classifier = new Classifier(session, inputs, output.name, output.kind);

  // Warm-up inference: proves the graph runs and its output width matches id2label.
  let rows: Float32Array[];
  try {
    rows = await classifier.run(encoder.pad([encoder.encode('warm up'), encoder.encode('a second, longer warm-up sentence')]));
  } catch (err) {
    throw new BundleError(modelFile, `warm-up inference failed (${(err as Error).message.split('\n')[0]})`);
  }
  if (rows[0].length !== labels.length) {
    throw new BundleError(configFile, `id2label has ${labels.length} labels but ${output.name} has width ${rows[0].length}`);
  }

  return {
    dir: abs,
    name: names.name ?? metadata.name ?? path.basename(path.dirname(abs)),
    version: names.version ?? metadata.version ?? path.basename(abs),
    labels,
    metadata,
    encoder,
    classifier,
    inputs,
    output,
  };
}
