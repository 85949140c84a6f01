// Entry point: read config, load the bundle (exit 1 with one clear line if it is unusable),
// warm up when asked, listen, and drain on SIGTERM.
import pino from 'pino';
import { listenBoth } from '../../../shared/grpc/server.ts';
import { loggerOptions, startupFailure } from '../../../shared/logger.ts';
import { exitWithParent } from '../../../shared/parent.ts';
import { onShutdown } from '../../../shared/shutdown.ts';
import { build } from './app.ts';
import { loadBundle } from './bundle/load-bundle.ts';
import { loadServiceConfig } from './config.ts';
import { warmUp } from './warm-up.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadServiceConfig();
  } catch (err) {
    pino(loggerOptions('info', 'inference')).fatal(startupFailure(err), 'invalid configuration');
    process.exit(1);
  }
  const log = pino(loggerOptions(config.logLevel, 'inference'));
  let bundle;
  try {
    bundle = await loadBundle(config.bundleDir, config.runtime, { name: config.modelName, version: config.modelVersion }, config.integrity);
  } catch (err) {
    log.fatal(startupFailure(err), 'cannot serve model bundle');
    process.exit(1);
  }
  const app = await build(config, bundle);
  onShutdown(log, () => app.close(), config.shutdownTimeoutMs);
  exitWithParent();
  if (config.warmUp.requests > 0) {
    log.info(`warming up: ${config.warmUp.requests} requests at most, for ${config.warmUp.maxMs} ms at most (WARMUP_REQUESTS, WARMUP_MAX_MS)`);
    try {
      const warmed = await warmUp(app, { ...config.warmUp, batchTexts: config.limits.batchTexts, textLength: config.limits.textLength });
      if (warmed.stopped) return; // a signal came: the shutdown exits, and the port never opens
      log.info({ requests: warmed.requests, texts: warmed.texts, ms: warmed.ms, timed_out: warmed.timedOut }, `warmed up with ${warmed.requests} requests in ${warmed.ms} ms${warmed.timedOut ? ' (WARMUP_MAX_MS reached)' : ''}`);
    } catch (err) {
      if (app.lifecycle.draining) return; // refused because the app is closing
      log.fatal(startupFailure(err), 'warm-up failed');
      process.exit(1);
    }
  }
  const grpc = await listenBoth(app, log, { host: config.host, port: config.port, grpcPort: config.grpcPort, grpcSetting: 'GRPC_PORT' });
  app.log.info({ model: bundle.name, version: bundle.version, bundle: bundle.dir, grpc, manifest: bundle.integrity.manifest, signed: bundle.integrity.signed }, 'model ready');
}

void main();
