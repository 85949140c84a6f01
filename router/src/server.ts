// Router entry point: config, app, listen, drain on SIGTERM.
import pino from 'pino';
import { listenBoth } from '../../shared/grpc/server.ts';
import { loggerOptions, startupFailure } from '../../shared/logger.ts';
import { exitWithParent } from '../../shared/parent.ts';
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
  const { file, overrides, unknown } = config.source;
  app.log.info({ file, overrides }, file ? 'router configuration read' : 'router configuration: defaults (no ROUTER_CONFIG_FILE)');
  for (const name of unknown) app.log.warn({ variable: name }, `${name} is not a setting of this router: ignored`);
  onShutdown(app.log as unknown as pino.Logger, () => app.close(), config.shutdownTimeoutMs);
  exitWithParent();
  await listenBoth(app, boot, { host: config.host, port: config.port, grpcPort: config.grpcPort, grpcSetting: 'ROUTER_GRPC_PORT' });
}

void main();
