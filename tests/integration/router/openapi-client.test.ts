// A client generated from the router's OpenAPI document (clients/router.ts: openapi-typescript's
// types through openapi-fetch), type-checked by `npm test`'s tsc, calling a real router in front
// of a real inference service.
import t from 'tap';
import path from 'node:path';
import { routerClient } from '../../../clients/router.ts';
import { ROOT, startProcess } from '../../../testkit/processes.ts';
import { fixtureBundleDir } from '../../helpers/build-app.ts';
import { until, weightsFile } from '../../helpers/router.ts';
import { FIXTURE_LABELS } from '../../../testkit/bert-fixture.ts';

const TOKEN = 'openapi-client-token-0123456789';

t.test('the generated client predicts and sets weights on a real router', async (t) => {
  const service = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => service.stop('SIGKILL'));
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${service.url}] }\n  green: { weight: 0 }\n`);
  const router = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '100' }, path.join(ROOT, 'router/src/server.ts'));
  t.teardown(() => router.stop('SIGKILL'));

  const anonymous = routerClient(router.url);
  const admin = routerClient(router.url, { adminToken: TOKEN });
  await until(async () => (await anonymous.POST('/predict', { body: { text: 'good' } })).response.status === 200, 30_000);

  const { data, response } = await anonymous.POST('/predict', { body: { text: 'a gripping , beautifully acted film' }, headers: { 'x-user-id': 'user-1' } });
  t.ok(data, 'POST /predict answers');
  t.ok(FIXTURE_LABELS.includes(data!.sentiment), `a label the model knows: ${data!.sentiment}`);
  t.ok(data!.confidence > 0 && data!.confidence <= 1);
  t.equal(response.headers.get('x-environment'), 'blue', 'the documented X-Environment header');

  const batch = await anonymous.POST('/predict/batch', { body: { texts: ['a triumph', 'a dull , lifeless mess'] } });
  t.equal(batch.data?.count, 2, 'POST /predict/batch answers, typed');

  const invalid = await anonymous.POST('/predict', { body: { text: ' ' } });
  t.equal(invalid.response.status, 400);
  t.equal(invalid.error?.code, 'FST_ERR_VALIDATION', 'a typed error body, from the replica that validated it');

  const denied = await anonymous.PUT('/admin/weights', { body: { weights: { blue: 50, green: 50 } } });
  t.equal(denied.response.status, 401);
  t.equal(denied.error?.code, 'ERR_UNAUTHORIZED');

  const rejected = await admin.PUT('/admin/weights', { body: { weights: { blue: -1 } } });
  t.equal(rejected.response.status, 400, 'a weight below 0 is refused');

  const set = await admin.PUT('/admin/weights', { body: { weights: { blue: 90, green: 10 } } });
  t.equal(set.response.status, 200, 'PUT /admin/weights');
  t.same(set.data?.environments.map((e) => [e.name, e.weight]), [['blue', 90], ['green', 10]], 'the answer shows the weights in force');

  const config = await admin.GET('/admin/config');
  t.same(config.data?.environments.map((e) => e.weight), [90, 10], 'GET /admin/config agrees');
});
