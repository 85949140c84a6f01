// A replica behind a fault proxy under load, one scenario per fault: answers delayed, connections
// reset mid-request, requests swallowed. Predictions are idempotent: not one may fail. Figures go
// to docs/reliability.md. (Process faults: replica-faults.test.ts.)
import t from 'tap';
import { CONCURRENCY, closedLoad, counter, duration, keepLoading, record, replicaStates, startTopology, summary, timeUntil } from './harness.ts';
import { FaultProxy, type FaultMode } from './fault-proxy.ts';

const failuresOf = (f: { failures: Record<string, number> }) => JSON.stringify(f.failures);

const FAULTS: { name: string; mode: FaultMode; what: string }[] = [
  { name: 'Slow replica', mode: { kind: 'delay', ms: 1500 }, what: 'every answer of 1 of 3 blue replicas held back 1.5 s (fault proxy)' },
  { name: 'Resetting replica', mode: { kind: 'reset', probability: 0.5 }, what: 'half the connections to 1 of 3 blue replicas reset mid-request (fault proxy)' },
  { name: 'Black-holed replica', mode: { kind: 'blackhole' }, what: '1 of 3 blue replicas accepts and never answers (fault proxy)' },
];

for (const fault of FAULTS) {
  t.test(`${fault.name.toLowerCase()} under load`, async (t) => {
    let proxy: FaultProxy | undefined;
    const topo = await startTopology(t, { blue: 3, green: 1 }, {
      weights: { blue: 3, green: 1 },
      through: async (environment, index, url) => {
        if (environment !== 'blue' || index !== 0) return url;
        proxy = await FaultProxy.start(url);
        t.teardown(() => proxy!.close());
        return proxy.url;
      },
    });
    const load = closedLoad(topo.router.url, { maxMs: duration(6, 30) + 30_000 });
    await keepLoading(load, 300, 5);
    proxy!.mode = fault.mode;
    const faultyUrl = proxy!.url;
    const ejected = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === faultyUrl && !r.available)).catch(() => null);
    await keepLoading(load, 1000, 20);
    proxy!.mode = { kind: 'pass' };
    const back = await timeUntil(async () => (await replicaStates(topo.router.url)).some((r) => r.url === faultyUrl && r.available)).catch(() => null);
    const figures = summary(await load.stop());
    t.equal(figures.failed, 0, `no request failed (${figures.sent} sent) ${failuresOf(figures)}`);
    const hedges = await counter(topo.router.url, 'router_hedges_total');
    const retries = await counter(topo.router.url, 'router_retries_total');
    await record({
      scenario: fault.name,
      what: `${fault.what} at c=${CONCURRENCY}`,
      ...figures,
      recovery: `${ejected === null ? 'not ejected' : `ejected after ${ejected} ms`}; ${back === null ? 'not back' : `back ${back} ms after the fault ended`}; ${hedges} hedged, ${retries} retried`,
    });
  });
}
