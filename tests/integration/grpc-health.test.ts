// grpc.health.v1.Health, as Kubernetes' gRPC probes and grpc_health_probe ask it, on a real replica
// process and on the router: SERVING while ready, NOT_SERVING while not, NOT_FOUND for a service
// it does not serve; a Watch hears NOT_SERVING when the replica stops, and its stream ends then, so
// it does not hold the shutdown for the grace period.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { INFERENCE_SERVICE } from '../../shared/grpc/server.ts';
import { fixtureBundleDir } from '../helpers/build-app.ts';
import { buildRouter, until, untilAllAvailable, weightsFile } from '../helpers/router.ts';
import { startProcess } from '../../testkit/processes.ts';

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

function health(t: Test, address: string) {
  const stub = new HealthClient(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  t.teardown(() => stub.close());
  return {
    check: (service: string) =>
      new Promise<string>((resolve) => stub.check({ service }, (err: grpc.ServiceError | null, res: { status: string }) => resolve(err ? grpc.status[err.code] : res.status))),
    watch: (service: string) => stub.watch({ service }) as grpc.ClientReadableStream<{ status: string }>,
  };
}

t.test('a replica: SERVING while ready; a Watch hears NOT_SERVING at SIGTERM and ends, and the process exits', { timeout: 45_000 }, async (t) => {
  // A grace period longer than the test: a Watch holding the shutdown would time the test out.
  const svc = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0', SHUTDOWN_TIMEOUT_MS: '60000' });
  t.teardown(() => svc.stop('SIGKILL'));
  const h = health(t, svc.grpc!);
  t.equal(await h.check(''), 'SERVING', 'the server as a whole');
  t.equal(await h.check(INFERENCE_SERVICE), 'SERVING', INFERENCE_SERVICE);
  t.equal(await h.check('grpc.reflection.v1.ServerReflection'), 'NOT_FOUND', 'a service it does not serve');

  const seen: string[] = [];
  const stream = h.watch('');
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (m: { status: string }) => seen.push(m.status));
    stream.on('error', () => resolve());
    stream.on('end', () => resolve());
  });
  await until(() => seen.length > 0);
  t.same(seen, ['SERVING'], 'a Watch starts with the status now');
  svc.proc.kill('SIGTERM');
  await ended;
  t.equal(seen.at(-1), 'NOT_SERVING', 'and hears NOT_SERVING before its stream ends');
  t.equal(await svc.exited, 0, 'the replica exits 0 with the Watch open');
});

t.test('the router: NOT_SERVING with no replica to send to, SERVING once one is available', async (t) => {
  const svc = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => svc.stop('SIGKILL'));
  const dead = await buildRouter(t, await weightsFile(t, 'environments:\n  blue: { weight: 100, replicas: [http://127.0.0.1:9] }\n'));
  t.equal(await health(t, await dead.grpc.listen('127.0.0.1', 0)).check(''), 'NOT_SERVING', 'no replica answers');

  const live = await buildRouter(t, await weightsFile(t, `environments:\n  blue: { weight: 100, replicas: [${svc.url}] }\n`));
  await untilAllAvailable(live);
  const h = health(t, await live.grpc.listen('127.0.0.1', 0));
  t.equal(await h.check(''), 'SERVING');
  t.equal(await h.check(INFERENCE_SERVICE), 'SERVING');
});
