import t from 'tap';
import { eligible, pickSticky, pickWeighted, type EnvironmentChoice } from '../../../router/src/routing/weighted.ts';
import { firstOfTies, pickLeastOutstanding } from '../../../router/src/routing/replica.ts';
import { Random } from '../../../shared/random.ts';

const envs = (weights: Record<string, number>, down: string[] = []): EnvironmentChoice[] =>
  Object.entries(weights).map(([name, weight]) => ({ name, weight, backup: false, available: !down.includes(name) }));

function split(pool: EnvironmentChoice[], picks: number, pick: (i: number) => EnvironmentChoice | undefined) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const e = pick(i)!;
    counts[e.name] = (counts[e.name] ?? 0) + 1;
  }
  return Object.fromEntries(pool.map((e) => [e.name, ((counts[e.name] ?? 0) / picks) * 100]));
}

t.test('weighted random: 70/25/5 within ±1 point over 100k picks', async (t) => {
  const pool = envs({ blue: 70, green: 25, canary: 5 });
  const rng = new Random(42);
  const observed = split(pool, 100_000, () => pickWeighted(pool, rng.next()));
  for (const [name, want] of Object.entries({ blue: 70, green: 25, canary: 5 })) {
    t.ok(Math.abs(observed[name] - want) <= 1, `${name}: ${observed[name].toFixed(2)}% (want ${want}%)`);
  }
});

t.test('sticky keys: 70/25/5 within ±1 point over 100k users, and the same key always lands the same', async (t) => {
  const pool = envs({ blue: 70, green: 25, canary: 5 });
  const observed = split(pool, 100_000, (i) => pickSticky(pool, `user-${i}`));
  for (const [name, want] of Object.entries({ blue: 70, green: 25, canary: 5 })) {
    t.ok(Math.abs(observed[name] - want) <= 1, `${name}: ${observed[name].toFixed(2)}% (want ${want}%)`);
  }
  for (let i = 0; i < 1000; i++) t.equal(pickSticky(pool, `user-${i}`)?.name, pickSticky(pool, `user-${i}`)?.name);
});

t.test('a weight change moves only the keys it must', async (t) => {
  const before = envs({ blue: 70, green: 25, canary: 5 });
  const after = envs({ blue: 60, green: 35, canary: 5 });
  let moved = 0;
  let wrongWay = 0;
  for (let i = 0; i < 50_000; i++) {
    const a = pickSticky(before, `user-${i}`)!.name;
    const b = pickSticky(after, `user-${i}`)!.name;
    if (a !== b) {
      moved++;
      if (b === 'blue' || a === 'green') wrongWay++;
    }
  }
  const pct = (moved / 50_000) * 100;
  t.ok(pct >= 9 && pct < 11.5, `${pct.toFixed(2)}% of users moved (the minimum possible is 10%)`);
  t.equal(wrongWay, 0, 'no user moves into the environment that lost weight or out of the one that gained');
});

t.test('healthy environments share the traffic of a down one in proportion; backups only when all are down', async (t) => {
  const pool = eligible(envs({ blue: 70, green: 25, canary: 5 }, ['blue'])).pool;
  const rng = new Random(7);
  const observed = split(pool, 100_000, () => pickWeighted(pool, rng.next()));
  t.ok(Math.abs(observed.green - (25 / 30) * 100) <= 1, `green ${observed.green.toFixed(2)}%`);
  t.ok(Math.abs(observed.canary - (5 / 30) * 100) <= 1, `canary ${observed.canary.toFixed(2)}%`);

  const withBackup: EnvironmentChoice[] = [...envs({ green: 100 }), { name: 'blue', weight: 0, backup: true, available: true }];
  t.same(eligible(withBackup).pool.map((e) => e.name), ['green'], 'backup idle while green is up');
  withBackup[0].available = false;
  const failover = eligible(withBackup);
  t.same(failover.pool.map((e) => e.name), ['blue'], 'backup serves when every weighted environment is down');
  t.equal(failover.onBackup, true);
  t.same(eligible(envs({ green: 100 }, ['green'])).pool, [], 'nothing eligible: the router answers 503');
});

t.test('least outstanding replica, ties at random, never an unavailable or excluded one', async (t) => {
  const replicas = [
    { id: 'a', inFlight: 3, available: true },
    { id: 'b', inFlight: 1, available: true },
    { id: 'c', inFlight: 1, available: true },
    { id: 'd', inFlight: 0, available: false },
  ];
  const rng = new Random(3);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(pickLeastOutstanding(replicas, () => rng.next())!.id);
  t.same([...seen].sort(), ['b', 'c'], 'ties between b and c broken both ways');
  t.equal(pickLeastOutstanding(replicas, Math.random, replicas[1])!.id, 'c', 'an excluded replica is skipped');
  t.equal(pickLeastOutstanding([replicas[3]]), undefined);
});

t.test('firstOfTies: every tie goes to the replica listed first, the least outstanding still wins', async (t) => {
  const replicas = [
    { id: 'a', inFlight: 1, available: true },
    { id: 'b', inFlight: 0, available: true },
    { id: 'c', inFlight: 0, available: true },
  ];
  for (let i = 0; i < 20; i++) t.equal(pickLeastOutstanding(replicas, firstOfTies)!.id, 'b');
  t.equal(pickLeastOutstanding(replicas, firstOfTies, replicas[1])!.id, 'c', 'an excluded replica is skipped');
  replicas[0].inFlight = 0;
  t.equal(pickLeastOutstanding(replicas, firstOfTies)!.id, 'a');
});
