// Entry point: read config, load the bundle (exit 1 with one clear line if it is unusable),
// listen, and drain on SIGTERM.
import pino from 'pino';
import { loggerOptions, startupFailure } from '../../../shared/logger.ts';
import { announceListening, exitWithParent } from '../../../shared/parent.ts';
import { onShutdown } from '../../../shared/shutdown.ts';
import { build } from './app.ts';
import { loadBundle } from './bundle/load-bundle.ts';
import { loadServiceConfig } from './config.ts';

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
    bundle = await loadBundle(config.bundleDir, config.runtime, { name: config.modelName, version: config.modelVersion });
  } catch (err) {
    log.fatal(startupFailure(err), 'cannot serve model bundle');
    process.exit(1);
  }
  const app = await build(config, bundle);
  onShutdown(log, () => app.close(), config.shutdownTimeoutMs);
  exitWithParent();
  // gRPC first: once the REST address is announced, both are up.
  let grpc;
  try {
    grpc = await app.grpc.listen(config.host, config.grpcPort);
  } catch (err) {
    log.fatal(startupFailure(err), `cannot listen for gRPC on port ${config.grpcPort} (GRPC_PORT)`);
    process.exit(1);
  }
  app.log.info(`gRPC listening at ${grpc}`);
  announceListening(await app.listen({ host: config.host, port: config.port }), grpc);
  app.log.info({ model: bundle.name, version: bundle.version, bundle: bundle.dir, grpc }, 'model ready');
}

void main();
