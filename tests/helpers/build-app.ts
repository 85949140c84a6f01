// build(t): a service app on the BERT-shaped fixture bundle, closed when the test ends.
import type { Test } from 'tap';
import { build, loadBundle, type AppConfig } from '../../services/inference/index.ts';
import { tempFixtureBundle } from '../../testkit/bert-fixture.ts';

export const TEST_CONFIG: AppConfig = {
  logLevel: 'silent',
  batching: { maxBatchSize: 8, maxWaitMs: 2, maxQueue: 256, concurrency: 1 },
  limits: { bodyBytes: 1_048_576, textLength: 1000, batchTexts: 16 },
  rateLimit: { max: 0, windowMs: 60_000 },
};

let fixtureDir: Promise<string> | undefined;
export const fixtureBundleDir = () => (fixtureDir ??= tempFixtureBundle());

/** An app on the fixture bundle, or on the bundle in `dir`. */
export async function buildApp(t: Test, overrides: Partial<AppConfig> = {}, dir?: string) {
  const bundle = await loadBundle(dir ?? (await fixtureBundleDir()), { workers: 1, intraOpThreads: 1, interOpThreads: 1 });
  const app = await build({ ...TEST_CONFIG, ...overrides }, bundle);
  await app.ready();
  t.teardown(() => app.close());
  return app;
}
