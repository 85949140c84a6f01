// Text of a weights file → a validated WeightsFile, or an error naming the field's path.
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { WeightsFile } from './schema.ts';

export class WeightsError extends Error {
  override name = 'WeightsError';
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

export function validateWeights(data: unknown): WeightsFile {
  const error = Value.Errors(WeightsFile, data).First();
  if (error) throw new WeightsError(error.path || '/', error.message);
  const file = data as WeightsFile;
  const weighted = Object.entries(file.environments).filter(([, e]) => !e.backup);
  if (weighted.reduce((sum, [, e]) => sum + e.weight, 0) <= 0) {
    throw new WeightsError('/environments', 'the weights of the non-backup environments add up to 0: no traffic could be routed');
  }
  return file;
}

export function parseWeights(text: string): WeightsFile {
  if (text.trim() === '') throw new WeightsError('/', 'the file is empty');
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new WeightsError('/', `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return validateWeights(data);
}

export function serializeWeights(file: WeightsFile): string {
  return stringifyYaml(file);
}
