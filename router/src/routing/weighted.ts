// Pure selection primitives: weighted random, weighted rendezvous hashing, eligibility with backup
// failover. The routing policy (policy.ts) composes them; nothing here knows HTTP.

export interface EnvironmentChoice {
  name: string;
  weight: number;
  backup: boolean;
  /** At least one replica can take traffic. */
  available: boolean;
}

export interface Eligible {
  pool: EnvironmentChoice[];
  /** Backup environments are serving because every weighted one is down. */
  onBackup: boolean;
}

/** Weighted environments that are up; else the backups that are up (equal shares if weightless). */
export function eligible(envs: readonly EnvironmentChoice[]): Eligible {
  const weighted = envs.filter((e) => !e.backup && e.weight > 0 && e.available);
  if (weighted.length > 0) return { pool: weighted, onBackup: false };
  const backups = envs.filter((e) => e.backup && e.available);
  const total = backups.reduce((s, e) => s + e.weight, 0);
  return { pool: total > 0 ? backups.filter((e) => e.weight > 0) : backups.map((e) => ({ ...e, weight: 1 })), onBackup: backups.length > 0 };
}

/** r uniform in [0, 1). */
export function pickWeighted(pool: readonly EnvironmentChoice[], r: number): EnvironmentChoice | undefined {
  const total = pool.reduce((s, e) => s + e.weight, 0);
  let x = r * total;
  for (const e of pool) {
    if (x < e.weight) return e;
    x -= e.weight;
  }
  return pool[pool.length - 1];
}

/** 32-bit FNV-1a followed by a murmur3 finalizer, for well-spread bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Weighted rendezvous hashing: each environment scores -weight / ln(u(key, env)) and the best
 * wins. The same key always lands in the same environment for a weight set, and a weight change
 * moves only the keys that must move.
 */
export function pickSticky(pool: readonly EnvironmentChoice[], key: string): EnvironmentChoice | undefined {
  let best: EnvironmentChoice | undefined;
  let bestScore = -Infinity;
  for (const e of pool) {
    const u = (hash32(`${key}\u0000${e.name}`) + 0.5) / 4294967296;
    const score = -e.weight / Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = e;
    }
  }
  return best;
}
