// docs/metrics.md lists every metric the router and the service export (beyond prom-client's
// default process metrics), and nothing they do not.
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from '../../router/index.ts';
import { buildApp } from '../helpers/build-app.ts';
import { routerConfig, weightsFile } from '../helpers/router.ts';
import { ROOT } from '../../testkit/processes.ts';

const own = async (registry: { getMetricsAsJSON: () => Promise<{ name: string }[]> }) =>
  (await registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => !/^(process_|nodejs_)/.test(name));

t.test('every metric is documented, and every documented metric exists', async (t) => {
  // With a state store configured (none answers on port 1: its metrics exist all the same).
  const router = await build(routerConfig(await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n'), { stateStore: { url: 'redis://127.0.0.1:1', prefix: 'metrics-doc:' } }));
  t.teardown(() => router.close());
  const service = await buildApp(t);
  const exported = [...(await own(router.metricsRegistry)), ...(await own(service.metricsRegistry))].sort();
  const doc = await fs.readFile(path.join(ROOT, 'docs/metrics.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map((m) => m[1]).sort();
  t.same(documented, exported);
});
