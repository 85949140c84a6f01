import t from 'tap';
import path from 'node:path';
import { loadServiceConfig } from '../../services/inference/src/config.ts';

t.test('defaults point at the built-in sentiment 1.1.0 bundle', async (t) => {
  const c = loadServiceConfig({});
  t.equal(c.bundleDir, path.resolve('models/sentiment/1.1.0'));
  t.equal(c.port, 8000);
  t.same(c.batching, { maxBatchSize: 32, maxWaitMs: 2, maxQueue: 2048, concurrency: 1, splitCostTokens: 0 });
  t.equal(c.grpcPort, 8001);
  t.equal(c.limits.bodyBytes, 1_048_576);
});

t.test('values are converted and MODEL_DIR wins', async (t) => {
  const c = loadServiceConfig({ PORT: '9001', BATCH_MAX_SIZE: '1', MODEL_DIR: '/tmp/b', LOG_LEVEL: 'warn' });
  t.equal(c.port, 9001);
  t.equal(c.batching.maxBatchSize, 1);
  t.equal(c.bundleDir, '/tmp/b');
  t.equal(c.modelName, undefined, 'name comes from the bundle');
});

t.test('invalid values are rejected with the variable named', async (t) => {
  t.throws(() => loadServiceConfig({ PORT: 'eighty' }), /PORT/);
  t.throws(() => loadServiceConfig({ PORT: '70000' }), /PORT/);
  t.throws(() => loadServiceConfig({ BATCH_MAX_SIZE: '0' }), /BATCH_MAX_SIZE/);
  t.throws(() => loadServiceConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
  t.throws(() => loadServiceConfig({ MODEL_VERSION: '../../etc' }), /MODEL_VERSION/);
});
