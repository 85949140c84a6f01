// Where a request naming a model version goes (the protocol's versioned paths): the first
// environment whose available replicas serve that version, whatever the weights say.
import { ModelNotFoundError } from '../../../shared/errors.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';

/** Throws ModelNotFoundError, listing what each environment serves, when none serves it. */
export function environmentServing(environments: readonly EnvironmentSnapshot[], versions: (environment: string) => string[], name: string | undefined, version: string): EnvironmentSnapshot {
  const serving = environments.find((e) => versions(e.name).includes(version));
  if (!serving) throw new ModelNotFoundError(`${name} version ${version}`, environments.map((e) => `${e.name}: ${versions(e.name).join(', ') || 'none'}`).join('; '));
  return serving;
}
