// A frozen, validated view of the weights file that the data path reads without locks.
import type { WeightsFile } from './schema.ts';

export interface EnvironmentSnapshot {
  name: string;
  weight: number;
  /** Static replica base URLs from the file. */
  replicas: readonly string[];
  /** Replicas found by resolving a DNS name, if the file names one. */
  discovery: { dns: string; port: number; intervalMs: number } | null;
  backup: boolean;
  /** Percent of /predict requests mirrored to it. */
  shadow: number;
  /** Whether its /predict requests join coalesced batches (when the router coalesces at all). */
  coalesce: boolean;
}

export interface WeightsSnapshot {
  generation: number;
  loadedAt: string;
  environments: readonly EnvironmentSnapshot[];
  assignment: { header?: string; cookie?: string };
  file: WeightsFile;
}

export function toSnapshot(file: WeightsFile, generation: number): WeightsSnapshot {
  return Object.freeze({
    generation,
    loadedAt: new Date().toISOString(),
    environments: Object.freeze(
      Object.entries(file.environments).map(([name, e]) =>
        Object.freeze({
          name,
          weight: e.weight,
          replicas: Object.freeze([...(e.replicas ?? [])]),
          discovery: e.discovery ? Object.freeze({ dns: e.discovery.dns, port: e.discovery.port, intervalMs: (e.discovery.interval_seconds ?? 5) * 1000 }) : null,
          backup: e.backup ?? false,
          shadow: e.shadow ?? 0,
          coalesce: e.coalesce ?? true,
        }),
      ),
    ),
    assignment: Object.freeze({ header: file.assignment?.header?.toLowerCase(), cookie: file.assignment?.cookie }),
    file,
  });
}
