// The rolling-update plan, walked step by step as the controller would: never below the ready
// count it must keep, never more than max_surge above the desired count, to the end.
import t, { type Test } from 'tap';
import { plan, sameTemplate, type PlanInput, type ReplicaState, type Template } from '../../launcher/src/planner.ts';

const v1: Template = { model: 'sentiment', version: '1.0.0' };
const v2: Template = { model: 'sentiment', version: '1.1.0' };

/** Applies a plan's actions: starts come up starting, stops are gone; then every starting one becomes ready. */
function walk(t: Test, input: Omit<PlanInput, 'current'>, current: ReplicaState[], maxSteps = 20) {
  let replicas = current;
  let next = 0;
  const minReady = Math.max(0, input.replicas - input.maxUnavailable);
  for (let step = 0; step < maxSteps; step++) {
    const actions = plan({ ...input, current: replicas });
    if (actions.length === 0) return replicas;
    for (const a of actions) {
      if (a.kind === 'start') replicas = [...replicas, { id: `n${next++}`, template: a.template, phase: 'starting' }];
      else replicas = replicas.filter((r) => r.id !== a.id);
    }
    t.ok(replicas.length <= Math.max(input.replicas, current.length) + input.maxSurge, `step ${step}: ${replicas.length} replicas, within the surge`);
    t.ok(replicas.filter((r) => r.phase === 'ready').length >= Math.min(minReady, current.filter((r) => r.phase === 'ready').length), `step ${step}: enough ready replicas`);
    replicas = replicas.map((r) => ({ ...r, phase: 'ready' }));
  }
  throw new Error('the plan did not converge');
}

const ready = (n: number, template: Template, prefix = 'r'): ReplicaState[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, template, phase: 'ready' }));

t.test('a version change rolls one replica at a time and ends with only the new version', async (t) => {
  const end = walk(t, { template: v2, replicas: 3, maxSurge: 1, maxUnavailable: 0, canStart: true }, ready(3, v1));
  t.equal(end.length, 3);
  t.ok(end.every((r) => sameTemplate(r.template, v2)));
});

t.test('the first step starts one new replica and stops nothing', async (t) => {
  t.same(plan({ template: v2, replicas: 2, current: ready(2, v1), maxSurge: 1, maxUnavailable: 0, canStart: true }), [{ kind: 'start', template: v2 }]);
});

t.test('an old replica goes only once a new one is ready', async (t) => {
  const current: ReplicaState[] = [...ready(2, v1), { id: 'n0', template: v2, phase: 'starting' }];
  t.same(plan({ template: v2, replicas: 2, current, maxSurge: 1, maxUnavailable: 0, canStart: true }), [], 'nothing while the new one starts');
  current[2] = { ...current[2], phase: 'ready' };
  t.same(plan({ template: v2, replicas: 2, current, maxSurge: 1, maxUnavailable: 0, canStart: true }), [{ kind: 'stop', id: 'r0', reason: 'replaced' }]);
});

t.test('scale up starts what is missing at once; scale down stops the extra, starting ones first', async (t) => {
  t.same(plan({ template: v1, replicas: 4, current: ready(1, v1), maxSurge: 1, maxUnavailable: 0, canStart: true }).map((a) => a.kind), ['start', 'start', 'start']);
  const current: ReplicaState[] = [...ready(3, v1), { id: 's', template: v1, phase: 'starting' }];
  t.same(plan({ template: v1, replicas: 2, current, maxSurge: 1, maxUnavailable: 0, canStart: true }), [
    { kind: 'stop', id: 's', reason: 'scaled_down' },
    { kind: 'stop', id: 'r0', reason: 'scaled_down' },
  ]);
});

t.test('a removed environment (0 replicas) stops everything', async (t) => {
  t.same(plan({ template: v1, replicas: 0, current: ready(2, v1), maxSurge: 1, maxUnavailable: 0, canStart: true }).map((a) => a.kind), ['stop', 'stop']);
});

t.test('when starts are not allowed (a failed template), the old replicas keep serving', async (t) => {
  t.same(plan({ template: v2, replicas: 2, current: ready(2, v1), maxSurge: 1, maxUnavailable: 0, canStart: false }), []);
});

t.test('replicas already stopping count for nothing', async (t) => {
  const current: ReplicaState[] = [{ id: 'x', template: v1, phase: 'stopping' }, ...ready(1, v1)];
  t.same(plan({ template: v1, replicas: 2, current, maxSurge: 1, maxUnavailable: 0, canStart: true }), [{ kind: 'start', template: v1 }]);
});

t.test('a larger surge and unavailability go faster, within their bounds', async (t) => {
  const end = walk(t, { template: v2, replicas: 4, maxSurge: 2, maxUnavailable: 1, canStart: true }, ready(4, v1));
  t.ok(end.every((r) => sameTemplate(r.template, v2)) && end.length === 4);
});

t.test("an environment's own replica settings are part of its template: changing them rolls the replicas", async (t) => {
  const base = { model: 'sentiment', version: '2.0.0' };
  t.ok(sameTemplate({ ...base, env: { A: '1', B: '2' } }, { ...base, env: { B: '2', A: '1' } }), 'the same settings in another order');
  t.ok(sameTemplate(base, { ...base, env: {} }), 'no settings and empty settings');
  t.notOk(sameTemplate({ ...base, env: { INFERENCE_WORKERS: '1' } }, { ...base, env: { INFERENCE_WORKERS: '2' } }), 'a changed value');
  t.notOk(sameTemplate(base, { ...base, env: { INFERENCE_WORKERS: '1' } }), 'a setting added');
});
