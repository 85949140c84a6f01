// What the mirrored requests of one shadow environment and version came to: counts and sums that add up across
// routers (the shared report flushes them to the store as they are).
export interface ShadowTally {
  environment: string;
  version: string;
  compared: number;
  labelled: number;
  agreed: number;
  confidenceDeltaSum: number;
  confidenceDeltas: number;
  latencyDeltaSum: number;
  failed: number;
  dropped: number;
}

/** The fields that add up (all but the names). */
export const SHADOW_SUMS = ['compared', 'labelled', 'agreed', 'confidenceDeltaSum', 'confidenceDeltas', 'latencyDeltaSum', 'failed', 'dropped'] as const;

export const emptyShadow = (environment: string, version = ''): ShadowTally => ({ environment, version, compared: 0, labelled: 0, agreed: 0, confidenceDeltaSum: 0, confidenceDeltas: 0, latencyDeltaSum: 0, failed: 0, dropped: 0 });

/** The key of an environment's tally for one version. */
export const shadowKey = (environment: string, version: string) => `${environment}\u0000${version}`;

/** Splits a shadowKey (a key without a version: the version ''). */
export function parseShadowKey(key: string): { environment: string; version: string } {
  const [environment, version = ''] = key.split('\u0000');
  return { environment, version };
}

/** Adds `from` into `into`. */
export function mergeShadow(into: ShadowTally, from: ShadowTally): void {
  for (const field of SHADOW_SUMS) into[field] += from[field];
  if (from.version) into.version = from.version;
}
