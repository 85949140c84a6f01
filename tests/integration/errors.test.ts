// One error registry for both processes: the same condition answers with the same status and body
// from the router and the service, and docs/errors.md lists every code the registry holds.
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ERROR_CODES } from '../../shared/errors.ts';
import { buildApp } from '../helpers/build-app.ts';
import { buildRouter, positiveBatch, slowBatchUpstream, untilAllAvailable, weightsFile } from '../helpers/router.ts';
import { FIXTURE_LABELS, slowModelBytes, tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { ROOT } from '../../testkit/processes.ts';

const predict = (app: { inject: Awaited<ReturnType<typeof buildApp>>['inject'] }, text: string) =>
  app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text }) });

t.test('a full queue: the service and the router answer the same 503 body, with Retry-After', async (t) => {
  // The service: a model whose one batch runs for a long while, a queue of one text behind it.
  const slow = await tempFixtureBundle({ override: { 'model.onnx': slowModelBytes(2), 'config.json': JSON.stringify({ id2label: Object.fromEntries(FIXTURE_LABELS.map((l, i) => [i, l])) }) } });
  const service = await buildApp(t, { batching: { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 1, concurrency: 1 } }, slow);
  const fromService = (await Promise.all(['one', 'two', 'three'].map((text) => predict(service, text)))).find((r) => r.statusCode === 503);

  // The router: one replica that takes a while per batch, a coalescing queue of 64 behind it.
  const upstream = await slowBatchUpstream(t, 100, positiveBatch);
  const router = await buildRouter(t, await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${upstream}] }\n`), { coalesce: { maxBatch: 1, maxWaitMs: 2 } });
  await untilAllAvailable(router);
  const fromRouter = (await Promise.all(Array.from({ length: 80 }, (_, i) => predict(router, `text ${i}`)))).find((r) => r.statusCode === 503);

  if (!fromService || !fromRouter) throw new Error('both queues should have been full');
  t.same(fromService.json(), fromRouter.json(), 'the same body from both processes');
  t.same(fromService.json(), { error: 'overloaded', message: 'too many requests are waiting; retry later', code: 'ERR_OVERLOADED' });
  t.equal(fromService.headers['retry-after'], '1');
  t.equal(fromRouter.headers['retry-after'], '1');
});

t.test('docs/errors.md lists every code of the registry, and only those', async (t) => {
  const doc = await fs.readFile(path.join(ROOT, 'docs/errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  t.same([...documented].sort(), [...ERROR_CODES].sort());
});
