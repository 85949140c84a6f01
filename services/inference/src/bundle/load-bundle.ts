// Loads and validates a model bundle at start-up. Every problem becomes one BundleError naming the
// file and what is wrong, so a bad bundle fails the boot, never the first request.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import { BundleError } from '../../../../shared/errors.ts';
import { BUNDLE_FILES, REQUIRED_FILES } from '../../../../shared/bundle/layout.ts';
import { NO_POLICY, verifyBundle, type IntegrityPolicy, type IntegrityResult } from '../../../../shared/bundle/manifest.ts';
import { BundleMetadata, ModelConfigFile, TokenizerConfigFile, TokenizerFile } from '../../../../shared/bundle/schemas.ts';
import { BertWordPiece } from '../model/bert-wordpiece.ts';
import { TokenEncoder } from '../model/token-encoder.ts';
import { Classifier, SUPPORTED_INPUTS, type ModelInput, type OutputKind } from '../model/classifier.ts';
import type { SessionInfo } from '../model/session-protocol.ts';
import type { ModelSession } from '../model/session.ts';
import { WorkerSession } from '../model/worker-session.ts';
import { InlineSession } from '../model/inline-session.ts';

export interface RuntimeOptions {
  /** Worker threads, each with its own onnxruntime session; 0 runs one session inline. */
  workers: number;
  intraOpThreads: number;
  interOpThreads: number;
  spinning?: boolean;
}

export interface LoadedBundle {
  dir: string;
  name: string;
  version: string;
  labels: string[];
  metadata: BundleMetadata;
  encoder: TokenEncoder;
  classifier: Classifier;
  inputs: readonly ModelInput[];
  output: { name: string; kind: OutputKind };
  /** What the manifest check found: whether there was one, and whether its signature verified. */
  integrity: IntegrityResult;
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

async function openSessions(file: string, runtime: RuntimeOptions): Promise<ModelSession[]> {
  const options = { modelPath: file, intraOpThreads: runtime.intraOpThreads, interOpThreads: runtime.interOpThreads, spinning: runtime.spinning };
  try {
    if (runtime.workers === 0) return [await InlineSession.open(options)];
    return await Promise.all(Array.from({ length: runtime.workers }, () => WorkerSession.open(options)));
  } catch (err) {
    throw new BundleError(file, `cannot be loaded by onnxruntime (${(err as Error).message.split('\n')[0]})`);
  }
}

function checkInputs(info: SessionInfo, file: string): ModelInput[] {
  const inputs: ModelInput[] = [];
  for (const meta of info.inputs) {
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

function checkOutput(info: SessionInfo, file: string, labelCount: number): { name: string; kind: OutputKind } {
  const meta = info.outputs.find((m) => m.name in OUTPUT_NAMES);
  if (!meta) {
    throw new BundleError(file, `graph has no logits or probabilities output (outputs: ${info.outputs.map((o) => o.name).join(', ')})`);
  }
  if (meta.isTensor && meta.shape) {
    if (meta.type !== 'float32') throw new BundleError(file, `output "${meta.name}" must be float32, found ${meta.type}`);
    const width = meta.shape[meta.shape.length - 1];
    if (meta.shape.length !== 2 || (typeof width === 'number' && width !== labelCount)) {
      throw new BundleError(file, `output "${meta.name}" has shape [${meta.shape.join(', ')}] but config.json id2label has ${labelCount} labels`);
    }
  }
  return { name: meta.name, kind: OUTPUT_NAMES[meta.name] };
}

export async function loadBundle(dir: string, runtime: RuntimeOptions, names: { name?: string; version?: string } = {}, integrity: IntegrityPolicy = NO_POLICY): Promise<LoadedBundle> {
  const abs = path.resolve(dir);
  const stat = await fs.stat(abs).catch(() => null);
  if (!stat?.isDirectory()) throw new BundleError(abs, 'bundle directory does not exist');
  // Before anything is read: a changed, missing or added file refuses the bundle (manifest.ts).
  const checked = verifyBundle(abs, integrity);
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
  const encoder = new TokenEncoder(tokenizer, maxLengthOf(config, tokConfig, tokenizerJson), padToken, tokConfig?.unk_token ?? '[UNK]', BertWordPiece.from(tokenizerJson, tokConfig ?? {}));

  const modelFile = path.join(abs, BUNDLE_FILES.model);
  const sessions = await openSessions(modelFile, runtime);
  const classifier = await checkedClassifier(sessions, { modelFile, configFile, labels, encoder }).catch(async (err: unknown) => {
    await Promise.all(sessions.map((s) => s.release()));
    throw err;
  });

  return {
    dir: abs,
    name: names.name ?? metadata.name ?? path.basename(path.dirname(abs)),
    version: names.version ?? metadata.version ?? path.basename(abs),
    labels,
    metadata,
    encoder,
    classifier: classifier.classifier,
    inputs: classifier.inputs,
    output: classifier.output,
    integrity: checked,
  };
}

/** Checks the graph's inputs and outputs, then runs a warm-up batch on every session. */
async function checkedClassifier(
  sessions: ModelSession[],
  ctx: { modelFile: string; configFile: string; labels: string[]; encoder: TokenEncoder },
): Promise<{ classifier: Classifier; inputs: ModelInput[]; output: { name: string; kind: OutputKind } }> {
  const inputs = checkInputs(sessions[0].info, ctx.modelFile);
  const output = checkOutput(sessions[0].info, ctx.modelFile, ctx.labels.length);
  for (const session of sessions) {
    const one = new Classifier([session], inputs, output.name, output.kind);
    let rows: Float32Array[];
    try {
      rows = await one.run(ctx.encoder.pad([ctx.encoder.encode('warm up'), ctx.encoder.encode('a second, longer warm-up sentence')]));
    } catch (err) {
      throw new BundleError(ctx.modelFile, `warm-up inference failed (${(err as Error).message.split('\n')[0]})`);
    }
    if (rows[0].length !== ctx.labels.length) {
      throw new BundleError(ctx.configFile, `id2label has ${ctx.labels.length} labels but ${output.name} has width ${rows[0].length}`);
    }
  }
  return { classifier: new Classifier(sessions, inputs, output.name, output.kind), inputs, output };
}
