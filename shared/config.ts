// The one place that reads process.env: parse once at boot against a TypeBox schema, fail fast
// with a message that names the variable.
import { Type, type TObject, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from './errors.ts';

export function readEnv<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults);
  const first = Value.Errors(schema, converted).First();
  if (first) {
    const name = first.path.replace(/^\//, '') || 'environment';
    throw new ConfigError(`invalid environment variable ${name}=${JSON.stringify(raw[name] ?? null)}: ${first.message}`);
  }
  return converted as Static<T>;
}

/** LOG_LEVEL, as every process reads it. */
export const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' });
