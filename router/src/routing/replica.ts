// Pure replica selection: least outstanding requests among available replicas, ties at random.

export interface ReplicaLoad {
  inFlight: number;
  available: boolean;
}

export function pickLeastOutstanding<T extends ReplicaLoad>(replicas: readonly T[], random: () => number = Math.random, exclude?: T | ReadonlySet<T>): T | undefined {
  const excluded = exclude instanceof Set ? (r: T) => exclude.has(r) : (r: T) => r === exclude;
  let best: T | undefined;
  let ties = 0;
  for (const r of replicas) {
    if (!r.available || excluded(r)) continue;
    if (!best || r.inFlight < best.inFlight) {
      best = r;
      ties = 1;
    } else if (r.inFlight === best.inFlight && random() * ++ties < 1) {
      best = r; // reservoir sampling keeps each tied replica equally likely
    }
  }
  return best;
}
