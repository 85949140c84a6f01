// Process faults of replicas under load: killed, hung (SIGSTOP) and woken, a whole environment
// down (a replica behind a fault proxy is proxy-faults.test.ts). Predictions are idempotent: not
// one may fail. Figures go to docs/reliability.md.
import t from 'tap';
import { CONCURRENCY, closedLoad, counter, duration, keepLoading, LONG, record, replicaStates, startTopology, summary, timeUntil } from './harness.ts';

const failuresOf = (f: { failures: Record<string, number> }) => JSON.stringify(f.failures);

t.test('a replica killed (SIGKILL) under load', async (t) => {
  const topo = await startTopology(t, { blue: 3, green: 1 }, { weights: { blue: 3, green: 1 } });
  const load = closedLoad(topo.router.url, { maxMs: duration(6, 30) + 30_000 });
  await keepLoading(load, 300, 10);
  const victim = topo.replicas.blue[0];
  const killedAt = performance.now();
  victim.proc.kill('SIGKILL');
  const detected = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === victim.url && !r.available));
  await keepLoading(load, 1000, 20);
  const figures = summary(await load.stop());
  t.equal(figures.failed, 0, `no request failed (${figures.sent} sent) ${failuresOf(figures)}`);
  await record({ scenario: 'Replica killed', what: `SIGKILL 1 of 3 blue replicas at c=${CONCURRENCY}`, ...figures, recovery: `out of rotation ${detected} ms after the kill (${Math.round(performance.now() - killedAt)} ms of load after it)` });
});

t.test('a replica hung (SIGSTOP) and woken (SIGCONT) under load: hedged, ejected, back', async (t) => {
  const topo = await startTopology(t, { blue: 3, green: 1 }, { weights: { blue: 3, green: 1 } });
  const load = closedLoad(topo.router.url, { maxMs: duration(8, 40) + 30_000 });
  await keepLoading(load, 300, 5);
  const victim = topo.replicas.blue[0];
  victim.proc.kill('SIGSTOP');
  const hangMs = duration(3, 8);
  const ejected = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === victim.url && !r.available));
  // The replica stays stopped for the scenario's hang, however long ejection took.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, hangMs - ejected)));
  victim.proc.kill('SIGCONT');
  const back = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === victim.url && r.available));
  await keepLoading(load, 500, 10);
  const figures = summary(await load.stop());
  const hedges = await counter(topo.router.url, 'router_hedges_total');
  t.equal(figures.failed, 0, `no request failed (${figures.sent} sent) ${failuresOf(figures)}`);
  t.ok(hedges > 0, `requests stuck on the hung replica were hedged (${hedges})`);
  // The bound the hedge gives, asserted only in the long run (npm test runs on a loaded machine).
  if (LONG) t.ok(figures.worst_ms! < 1000, `the slowest request took ${figures.worst_ms} ms, not the ${hangMs} ms hang`);
  await record({
    scenario: 'Replica hung',
    what: `SIGSTOP 1 of 3 blue replicas for ${hangMs / 1000} s at c=${CONCURRENCY}, then SIGCONT`,
    ...figures,
    recovery: `ejected ${ejected} ms after the stop; back in rotation ${back} ms after SIGCONT; ${hedges} requests hedged`,
  });
});

t.test("an environment's every replica down under load: its share fails over", async (t) => {
  const topo = await startTopology(t, { blue: 2, green: 2 }, { weights: { blue: 1, green: 1 } });
  const load = closedLoad(topo.router.url, { maxMs: duration(6, 30) + 30_000 });
  await keepLoading(load, 300, 10);
  for (const r of topo.replicas.blue) r.proc.kill('SIGKILL');
  const detected = await timeUntil(async () => (await replicaStates(topo.router.url)).filter((r) => r.environment === 'blue').every((r) => !r.available));
  await keepLoading(load, 1000, 20);
  const figures = summary(await load.stop());
  t.equal(figures.failed, 0, `no request failed (${figures.sent} sent) ${failuresOf(figures)}`);
  await record({ scenario: 'Environment down', what: `SIGKILL both blue replicas (blue 50%, green 50%) at c=${CONCURRENCY}`, ...figures, recovery: `blue out of rotation ${detected} ms after the kill; its share served by green` });
});
