// Pure replica selection: least outstanding requests among available replicas, ties at random, or
// all to the replica listed first (firstOfTies) where keeping one replica warm matters more.

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

/**
 * A stand-in for `random` under which a tie never displaces the replica listed first. The
 * coalescer's batches take it: on cores shared with the router, a replica woken cold spends
 * several times the CPU of a warm one on the same batch, and sending every batch that finds the
 * replicas idle to the same one keeps it warm (measured: bench/RESULTS.md). Under load the
 * least-outstanding rule still spreads the batches.
 */
export const firstOfTies = () => 1;
