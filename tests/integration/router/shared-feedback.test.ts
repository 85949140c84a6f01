// The answers routers share for feedback (state/shared-feedback.ts), against a real redis-server:
// a batch is written as fields of its time bucket, found from any router, still found once its
// bucket has passed, and the bucket expires a TTL after it ends.
import t from 'tap';
import pino from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { SharedFeedback } from '../../../router/src/state/shared-feedback.ts';
import { StateStore } from '../../../router/src/state/store.ts';
import { REDIS_SERVER, startRedis } from '../../../testkit/redis.ts';
import { until } from '../../helpers/router.ts';

const skip = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';

t.test('answers kept by bucket: found from another router, after their bucket, and expiring a TTL after it', { skip }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop('SIGKILL'));
  const open = async () => {
    const registers = [new Registry()];
    const store = await StateStore.open(redis.url, 'test:', pino({ level: 'silent' }), {
      up: new Gauge({ name: 'up', help: 'up', registers }),
      failures: new Counter({ name: 'failures', help: 'failures', labelNames: ['operation'], registers }),
    });
    t.teardown(() => store.close());
    return store;
  };
  const ttlMs = 16_000; // buckets of one second
  const storeA = await open();
  const [a, b] = [new SharedFeedback(storeA, ttlMs), new SharedFeedback(await open(), ttlMs)];
  await until(() => a.available && b.available); // both connected
  const written = Math.floor(Date.now() / 1000);
  a.remember('request-1', { environment: 'blue', version: '1.0.0', label: 'positive' });
  a.remember('request-2', { environment: 'green', version: '1.1.0', label: 'negative' });
  a.stop(); // writes the batch now
  await until(async () => (await b.find('request-1')) !== undefined); // router B finds what router A answered
  t.same(await b.find('request-1'), { environment: 'blue', version: '1.0.0', label: 'positive' });
  t.same(await b.find('request-2'), { environment: 'green', version: '1.1.0', label: 'negative' });
  t.equal(await b.find('request-3'), undefined, 'an unknown request id is not found');

  const keys = await storeA.redis.keys('test:predictions:*');
  t.equal(keys.length, 1, 'one hash for the batch');
  const bucket = Number(keys[0]?.split(':').at(-1));
  t.ok(bucket === written || bucket === written + 1, `named by its bucket (${keys[0]}; the batch was written in second ${written} or the next)`);
  t.equal(Number(await storeA.redis.call('PEXPIRETIME', keys[0])), (bucket + 1) * 1000 + ttlMs, 'the bucket expires a TTL after it ends');

  await until(() => Math.floor(Date.now() / 1000) > bucket); // the next bucket begins
  t.same(await b.find('request-1'), { environment: 'blue', version: '1.0.0', label: 'positive' }, 'found once its bucket has passed');
  b.stop();
});
