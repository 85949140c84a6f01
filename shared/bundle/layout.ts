// The model bundle format: the layout of a Hugging Face Optimum ONNX export.
//   models/<name>/<version>/model.onnx, tokenizer.json, tokenizer_config.json, config.json, metadata.json
import path from 'node:path';

export const BUNDLE_FILES = {
  model: 'model.onnx',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  config: 'config.json',
  metadata: 'metadata.json',
} as const;

/** Files a bundle must have; tokenizer_config.json and metadata.json are optional. */
export const REQUIRED_FILES = [BUNDLE_FILES.model, BUNDLE_FILES.tokenizer, BUNDLE_FILES.config] as const;

export function bundleDir(modelsDir: string, name: string, version: string): string {
  return path.join(modelsDir, name, version);
}
