// One registry of the errors this project raises. HTTP errors carry a status; start-up errors
// (config, bundle) are plain classes so the process exits with one clear line.
import createError from '@fastify/error';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A model bundle that cannot be served: names the file and the problem. */
export class BundleError extends Error {
  override name = 'BundleError';
  constructor(readonly file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
  }
}

export const QueueFullError = createError('ERR_QUEUE_FULL', 'the inference queue is full, retry later', 503);
export const ModelNotFoundError = createError('ERR_MODEL_NOT_FOUND', 'model %s is not served here (this service serves %s)', 404);
export const InvalidInferInputError = createError('ERR_INVALID_INFER_INPUT', '%s', 400);
