// Text of a weights file → a validated WeightsFile, or an error naming the field's path.
import { parse as parseYaml, parseDocument } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { WeightsInvalidError } from '../../../shared/errors.ts';
import { WeightsFile, type WeightsUpdate } from './schema.ts';

export type WeightsError = InstanceType<typeof WeightsInvalidError> & { path: string };

/** ERR_WEIGHTS_INVALID, with the path of the field at fault. */
export const weightsError = (path: string, message: string): WeightsError => Object.assign(new WeightsInvalidError(`${path}: ${message}`), { path });

/** Validates a weights file's data (the file's, or the spec with live weights over it). */
export function validateWeights(data: unknown): WeightsFile {
  const error = Value.Errors(WeightsFile, data).First();
  if (error) throw weightsError(error.path || '/', error.message);
  const file = data as WeightsFile;
  const weighted = Object.entries(file.environments).filter(([, e]) => !e.backup);
  if (weighted.reduce((sum, [, e]) => sum + e.weight, 0) <= 0) {
    throw weightsError('/environments', 'the weights of the non-backup environments add up to 0: no traffic could be routed');
  }
  return file;
}

export function parseWeights(text: string): WeightsFile {
  if (text.trim() === '') throw weightsError('/', 'the file is empty');
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw weightsError('/', `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return validateWeights(data);
}

/**
 * The file's text with new weights set, keeping everything else as the user wrote it (comments,
 * order, quoting): the file stays theirs to read and edit.
 */
export function withWeights(text: string, change: WeightsUpdate): string {
  const doc = parseDocument(text);
  for (const [name, weight] of Object.entries(change.weights)) doc.setIn(['environments', name, 'weight'], weight);
  for (const [name, backup] of Object.entries(change.backup ?? {})) {
    if (backup) doc.setIn(['environments', name, 'backup'], true);
    else doc.deleteIn(['environments', name, 'backup']);
  }
  for (const [name, percent] of Object.entries(change.shadow ?? {})) {
    if (percent > 0) doc.setIn(['environments', name, 'shadow'], percent);
    else doc.deleteIn(['environments', name, 'shadow']);
  }
  return doc.toString();
}
