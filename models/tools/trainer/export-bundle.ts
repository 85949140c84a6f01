// Writes a trained model as a bundle in the Hugging Face export layout.
import fs from 'node:fs/promises';
import path from 'node:path';
import { BUNDLE_FILES } from '../../../shared/bundle/layout.ts';
import { unsealBundle } from '../../../shared/bundle/manifest.ts';
import { tokenizerConfigJson, tokenizerJson } from '../wordpiece/tokenizer-files.ts';
import { LABELS, type TrainedModel, type TrainSettings } from './train.ts';

export interface BundleDescription {
  name: string;
  version: string;
  description: string;
  trainingData: Record<string, unknown>;
}

export async function writeBundle(dir: string, trained: TrainedModel, settings: TrainSettings, about: BundleDescription): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  unsealBundle(dir);
  const config = {
    architectures: ['SentimentBagModel'],
    model_type: trained.model.kind,
    max_position_embeddings: settings.maxLength,
    vocab_size: trained.vocab.length,
    hidden_size: settings.dim,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])),
  };
  const metadata = {
    name: about.name,
    version: about.version,
    description: about.description,
    architecture: trained.model.kind,
    training_data: about.trainingData,
    training_date: new Date().toISOString().slice(0, 10),
    seed: settings.seed,
    trainer_settings: settings,
    metrics: { dev: { dataset: 'sst3/dev.tsv', accuracy: round(trained.devAccuracy), neutral_logit_offset: trained.neutralOffset } },
  };
  await fs.writeFile(path.join(dir, BUNDLE_FILES.model), trained.model.toOnnx());
  await fs.writeFile(path.join(dir, BUNDLE_FILES.tokenizer), JSON.stringify(tokenizerJson(trained.vocab)));
  await fs.writeFile(path.join(dir, BUNDLE_FILES.tokenizerConfig), json(tokenizerConfigJson(settings.maxLength)));
  await fs.writeFile(path.join(dir, BUNDLE_FILES.config), json(config));
  await fs.writeFile(path.join(dir, BUNDLE_FILES.metadata), json(metadata));
}

/** A bundle's JSON file as written: two-space indented, ending in a newline. */
export const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
