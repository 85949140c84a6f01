// Router entry point: config, app, listen, drain on SIGTERM.
import pino from 'pino';
import { loggerOptions, startupFailure } from '../../shared/logger.ts';
import { announceListening, exitWithParent } from '../../shared/parent.ts';
import { onShutdown } from '../../shared/shutdown.ts';
import { build } from './app.ts';
import { loadRouterConfig } from './config.ts';

async function main(): Promise<void> {
  const boot = pino(loggerOptions('info', 'router'));
  let config;
  try {
    config = loadRouterConfig();
  } catch (err) {
    boot.fatal(startupFailure(err), 'invalid configuration');
    process.exit(1);
  }
  let app;
  try {
    app = await build(config);
  } catch (err) {
    boot.fatal(startupFailure(err), 'cannot start the router');
    process.exit(1);
  }
  onShutdown(app.log as unknown as pino.Logger, () => app.close(), config.shutdownTimeoutMs);
  exitWithParent();
  let grpc;
  try {
    grpc = await app.grpc.listen(config.host, config.grpcPort);
  } catch (err) {
    boot.fatal(startupFailure(err), `cannot listen for gRPC on port ${config.grpcPort} (ROUTER_GRPC_PORT)`);
    process.exit(1);
  }
  app.log.info(`gRPC listening at ${grpc}`);
  announceListening(await app.listen({ host: config.host, port: config.port }), grpc);
}

void main();
