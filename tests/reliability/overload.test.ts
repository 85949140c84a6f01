// Overload: at twice what the deployment can serve, the router sheds at once with 503 and
// Retry-After instead of queueing without bound. Accepted requests keep a bounded latency, memory
// stays flat, the admin API and probes answer, and throughput is back as soon as the load drops.
import t from 'tap';
import { request } from 'undici';
import { FIXTURE_LABELS, slowModelBytes, tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { adminHeaders, closedLoad, duration, keepLoading, openLoad, percentile, record, rssMb, startTopology, worst } from './harness.ts';

const MAX_IN_FLIGHT = 16;

t.test('twice the capacity: shed fast, serve the rest, recover at once', async (t) => {
  // One replica of a model that costs the same for every request (a 1024² matrix product, one
  // request per batch): a deployment with a known, small capacity.
  const bundle = await tempFixtureBundle({ override: { 'model.onnx': slowModelBytes(1), 'config.json': JSON.stringify({ id2label: Object.fromEntries(FIXTURE_LABELS.map((l, i) => [i, l])) }) } });
  const topo = await startTopology(t, { blue: 1 }, { bundle, replicaEnv: { INFERENCE_WORKERS: '1', BATCH_MAX_SIZE: '1' }, routerEnv: { ROUTER_REPLICA_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT), ROUTER_HEDGE_DELAY_FACTOR: '0' } });

  const probe = closedLoad(topo.router.url, { concurrency: 4, maxMs: 60_000 });
  const started = performance.now();
  await keepLoading(probe, 150, 10);
  const measured = await probe.stop();
  const capacity = measured.ok / ((performance.now() - started) / 1000);
  t.ok(capacity > 0, `capacity measured: ${capacity.toFixed(1)} requests/s`);

  const rssBefore = rssMb(topo.router.proc.pid!);
  const overloadMs = duration(4, 30);
  const during = openLoad(topo.router.url, capacity * 2, overloadMs);
  // While overloaded: the probe and the admin API still answer.
  const side: { ready: number[]; admin: number[] } = { ready: [], admin: [] };
  const sideChecks = (async () => {
    const until = performance.now() + overloadMs - 500;
    while (performance.now() < until) {
      for (const [key, path, headers] of [['ready', '/health/ready', {}], ['admin', '/admin/config', adminHeaders]] as const) {
        const t0 = performance.now();
        const res = await request(`${topo.router.url}${path}`, { headers });
        await res.body.dump();
        if (res.statusCode === 200) side[key].push(performance.now() - t0);
      }
    }
  })();
  const figures = await during;
  await sideChecks;
  const rssAfter = rssMb(topo.router.proc.pid!);

  const shed = figures.statuses['503'] ?? 0;
  const ok = figures.statuses['200'] ?? 0;
  t.ok(shed > 0, `requests beyond capacity were shed (${shed} of ${figures.sent})`);
  t.equal(figures.shedWithRetryAfter, shed, 'every 503 says when to come back (Retry-After)');
  t.same(Object.keys(figures.statuses).filter((s) => s !== '200' && s !== '503'), [], `nothing but answers and fast 503s: ${JSON.stringify(figures.statuses)}`);
  t.ok(side.ready.length > 0 && side.admin.length > 0, 'the readiness probe and the admin API answered throughout');
  t.ok(rssAfter - rssBefore < 150, `router memory stayed bounded: ${rssBefore} → ${rssAfter} MB`);

  // The load drops: the next requests are served at once.
  const after = closedLoad(topo.router.url, { concurrency: 2, maxMs: 60_000 });
  await keepLoading(after, 40, 3);
  const recovered = await after.stop();
  t.equal(recovered.ok, recovered.sent, `served again as soon as the load dropped (${recovered.ok}/${recovered.sent})`);

  await record({
    scenario: 'Overload',
    what: `open-loop ${Math.round(capacity * 2)} requests/s for ${overloadMs / 1000} s against 1 replica measured at ${capacity.toFixed(0)}/s (ROUTER_REPLICA_MAX_IN_FLIGHT=${MAX_IN_FLIGHT})`,
    sent: figures.sent,
    failed: figures.sent - ok - shed,
    failures: Object.fromEntries(Object.entries(figures.statuses).filter(([s]) => s !== '200')),
    p99_ms: percentile(figures.okLatencies, 0.99),
    worst_ms: worst(figures.okLatencies),
    recovery: `${ok} served (P99 ${percentile(figures.okLatencies, 0.99)} ms), ${shed} shed with 503 + Retry-After in P99 ${percentile(figures.shedLatencies, 0.99)} ms; /health/ready P99 ${percentile(side.ready, 0.99)} ms and /admin/config P99 ${percentile(side.admin, 0.99)} ms under overload; router RSS ${rssBefore} → ${rssAfter} MB; ${recovered.ok}/${recovered.sent} served right after`,
  });
});
