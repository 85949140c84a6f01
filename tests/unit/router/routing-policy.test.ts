// The routing policy without HTTP: override, sticky assignment, failover, backup, vetoes, "nothing
// healthy", the retry's fallback and the admin's live shares, on plain state.
import t from 'tap';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { choices, decide as decideAny, fallback, liveShares, type Decision, type Routed, type RoutingState } from '../../../router/src/routing/policy.ts';
import { eligible, pickWeighted } from '../../../router/src/routing/weighted.ts';
import { requestFacts } from '../../../router/src/routing/request-facts.ts';
import { Routing } from '../../../router/src/routing/routing.ts';
import { toSnapshot } from '../../../router/src/weights/snapshot.ts';
import { Random } from '../../../shared/random.ts';

function state(weights: Record<string, number | { weight: number; backup: true }>, down: string[] = [], vetoed: string[] = []): RoutingState {
  const environments = Object.fromEntries(
    Object.entries(weights).map(([name, w]) => [name, typeof w === 'number' ? { weight: w } : { weight: w.weight, backup: true }]),
  );
  return { environments: toSnapshot({ environments }, 1).environments, available: (name) => !down.includes(name), vetoed: new Set(vetoed) };
}

/** The decision, read as routed (fields of an unrouted one read as undefined). */
const decide = (...args: Parameters<typeof decideAny>) => decideAny(...args) as Partial<Omit<Routed, 'reason'>> & Pick<Decision, 'reason'>;

const split = (s: RoutingState, n: number, seed = 7) => {
  const rng = new Random(seed);
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = decide(s, {}, () => rng.next());
    const name = d.environment?.name ?? 'none';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
};

t.test('weighted: the split follows the weights; the reason says so', async (t) => {
  const s = state({ blue: 70, green: 25, canary: 5 });
  const counts = split(s, 20_000);
  t.ok(Math.abs(counts.blue / 20_000 - 0.7) < 0.02, `blue ${counts.blue}`);
  t.ok(Math.abs(counts.canary / 20_000 - 0.05) < 0.01, `canary ${counts.canary}`);
  const d = decide(s, {}, () => 0.1);
  t.equal(d.reason, 'weighted');
  t.equal(d.environment?.weight, 70, 'the decision carries the environment as configured');
});

t.test('override: a forced environment is taken as named, even when down or weightless; an unknown one is refused', async (t) => {
  const s = state({ blue: 100, green: 0 }, ['green']);
  const forced = decide(s, { forced: 'green' });
  t.equal(forced.environment?.name, 'green');
  t.equal(forced.reason, 'forced');
  const unknown = decide(s, { forced: 'purple' });
  t.equal(unknown.environment, undefined);
  t.equal(unknown.reason, 'unknown_environment');
});

t.test('sticky: a key always lands in the same environment, and keeps it when an unrelated environment goes down', async (t) => {
  const s = state({ blue: 50, green: 30, canary: 20 });
  const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
  const first = new Map(keys.map((k) => [k, decide(s, { userKey: k }).environment?.name]));
  for (const k of keys.slice(0, 200)) t.equal(decide(s, { userKey: k }).environment?.name, first.get(k), `${k} is stable`);
  t.equal(decide(s, { userKey: 'user-1' }).reason, 'sticky');

  const canaryDown = state({ blue: 50, green: 30, canary: 20 }, ['canary']);
  let moved = 0;
  for (const k of keys) {
    const now = decide(canaryDown, { userKey: k });
    if (first.get(k) !== 'canary' && now.environment?.name !== first.get(k)) moved++;
    if (first.get(k) === 'canary') t.equal(now.failedOverFrom, 'canary', `${k}: failed over from canary`);
  }
  t.equal(moved, 0, 'no user outside the down environment moved');
});

t.test('failover: a down environment\'s share goes to the healthy ones in proportion, and is reported', async (t) => {
  const s = state({ blue: 60, green: 30, canary: 10 }, ['blue']);
  const counts = split(s, 20_000, 11);
  t.equal(counts.blue ?? 0, 0, 'nothing goes to the down environment');
  t.ok(Math.abs(counts.green / (counts.green + counts.canary) - 0.75) < 0.02, `green:canary stays 3:1 (${counts.green}:${counts.canary})`);
  const d = decide(s, {}, () => 0.1); // 0.1 of the total picks blue first
  t.equal(d.failedOverFrom, 'blue');
  t.equal(d.onBackup, false);
});

t.test('backup: serves only when every weighted environment is down', async (t) => {
  const up = decide(state({ blue: { weight: 0, backup: true }, green: 100 }), {}, () => 0.5);
  t.equal(up.environment?.name, 'green', 'a backup takes nothing while a weighted environment is up');
  const down = decide(state({ blue: { weight: 0, backup: true }, green: 100 }, ['green']), {}, () => 0.5);
  t.equal(down.environment?.name, 'blue');
  t.equal(down.onBackup, true);
  t.equal(down.failedOverFrom, 'green');
});

t.test('nothing healthy: no decision, with the reason', async (t) => {
  const d = decide(state({ blue: 70, green: 30 }, ['blue', 'green']), {});
  t.equal(d.environment, undefined);
  t.equal(d.reason, 'no_healthy_environment');
  t.equal(decide(state({ blue: 70, green: 30 }, ['blue', 'green']), { userKey: 'u' }).reason, 'no_healthy_environment', 'with a user key too');
});

t.test('veto: a vetoed environment leaves rotation whatever its weight, and can be forced still', async (t) => {
  const s = state({ blue: 50, green: 50 }, [], ['green']);
  const counts = split(s, 2000);
  t.same(Object.keys(counts), ['blue'], 'every request goes to blue');
  t.equal(decide(s, { forced: 'green' }).environment?.name, 'green', 'an explicit override still reaches it');
  t.equal(liveShares(s).get('green'), 0, 'its live share is 0');

  let current = toSnapshot({ environments: { blue: { weight: 50 }, green: { weight: 50 } } }, 1);
  const routing = new Routing(() => current, () => true, () => 0.9);
  t.equal(routing.decide({}).environment?.name, 'green');
  routing.veto('green');
  t.equal(routing.decide({}).environment?.name, 'blue', 'veto applies to the next decision');
  t.same([...routing.vetoed], ['green']);
  routing.lift('green');
  t.equal(routing.decide({}).environment?.name, 'green', 'lifted');
  current = toSnapshot({ environments: { blue: { weight: 100 }, green: { weight: 0 } } }, 2);
  t.equal(routing.decide({}).environment?.name, 'blue', 'a new weights snapshot (a rollout step) applies at once');
});

t.test('fallback for a retry: another healthy environment by weight, never the failed one', async (t) => {
  const s = state({ blue: 60, green: 30, canary: 10 }, ['canary']);
  const rng = new Random(3);
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) seen.add(fallback(s, 'blue', () => rng.next())?.name ?? 'none');
  t.same([...seen], ['green'], 'green is the only other healthy environment');
  t.equal(fallback(state({ blue: 100 }), 'blue'), undefined, 'none when the failed one is the only one');
});

t.test('live shares: weights normalized over environments that can take traffic', async (t) => {
  t.same(Object.fromEntries(liveShares(state({ blue: 70, green: 25, canary: 5 }))), { blue: 0.7, green: 0.25, canary: 0.05 });
  t.same(Object.fromEntries(liveShares(state({ blue: 60, green: 20, canary: 20 }, ['blue']))), { blue: 0, green: 0.5, canary: 0.5 });
});

t.test('request facts: header over cookie, a malformed cookie still a key, X-Route-To read', async (t) => {
  const assignment = { header: 'x-user-id', cookie: 'user_id' };
  t.same(requestFacts({ 'x-user-id': 'u1', cookie: 'user_id=u2' }, assignment), { forced: undefined, userKey: 'u1' });
  t.same(requestFacts({ cookie: 'a=1; user_id=u%202' }, assignment), { forced: undefined, userKey: 'u 2' });
  t.same(requestFacts({ cookie: 'user_id=%E0%A4%A' }, assignment), { forced: undefined, userKey: '%E0%A4%A' }, 'a bad escape is kept as written, not an error');
  t.same(requestFacts({ 'x-route-to': 'green' }, {}), { forced: 'green', userKey: undefined });
});

t.test('the weighted pick, read straight from the state, decides as the choices-based pick of the selection primitives', async (t) => {
  // What decide did before it skipped building the choices for the first pick: any state, any draws.
  const reference = (s: RoutingState, random: () => number) => {
    const all = choices(s);
    const first = pickWeighted(all.filter((c) => !c.backup && c.weight > 0), random());
    if (first?.available) return { environment: first.name, failedOverFrom: undefined, onBackup: false };
    const { pool, onBackup } = eligible(all);
    const chosen = pickWeighted(pool, random());
    return chosen ? { environment: chosen.name, failedOverFrom: first?.name, onBackup } : { environment: undefined, failedOverFrom: undefined, onBackup: undefined };
  };
  const environment = fc.record({ weight: fc.integer({ min: 0, max: 100 }), backup: fc.boolean(), down: fc.boolean(), vetoed: fc.boolean() });
  fc.assert(
    fc.property(fc.array(environment, { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 2, maxLength: 2 }), (envs, draws) => {
      const names = envs.map((_, i) => `env-${i}`);
      const s = state(
        Object.fromEntries(envs.map((e, i) => [names[i], e.backup ? { weight: e.weight, backup: true as const } : e.weight])),
        names.filter((_, i) => envs[i].down),
        names.filter((_, i) => envs[i].vetoed),
      );
      const draw = () => {
        let i = 0;
        return () => draws[i++];
      };
      const d = decide(s, {}, draw());
      const expected = reference(s, draw());
      assert.deepStrictEqual({ environment: d.environment?.name, failedOverFrom: d.failedOverFrom, onBackup: d.environment ? d.onBackup : undefined }, expected);
    }),
    { numRuns: 2000 },
  );
  t.pass('2,000 random states decided alike');
});
