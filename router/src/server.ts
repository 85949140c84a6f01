// Router entry point: config, app, listen, warm up when asked, drain on SIGTERM.
import pino from 'pino';
import { listenBoth } from '../../shared/grpc/server.ts';
import { loggerOptions, startupFailure } from '../../shared/logger.ts';
import { exitWithParent } from '../../shared/parent.ts';
import { onShutdown } from '../../shared/shutdown.ts';
import { build } from './app.ts';
import { loadRouterConfig } from './config.ts';
import { warmUpRouter } from './warm-up.ts';

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
  const { warmUp } = config;
  // Not ready until warmed up: set before the port opens, so no probe sees it ready before.
  app.lifecycle.warming = warmUp.requests > 0;
  await listenBoth(app, boot, { host: config.host, port: config.port, grpcPort: config.grpcPort, grpcSetting: 'ROUTER_GRPC_PORT' });
  if (warmUp.requests > 0) {
    app.log.info(`warming up: ${warmUp.requests} requests at most, for ${warmUp.maxMs} ms at most, once every environment with weight has a replica (warm_up)`);
    void warmUpRouter(app, warmUp)
      .then((r) => {
        const line = { requests: r.requests, ms: r.ms, waited_ms: r.waitedMs, stopped_by: r.stoppedBy, answer: r.answer };
        if (r.stoppedBy === 'answer') app.log.warn(line, `warm-up stopped after ${r.requests} requests: ${r.answer}`);
        else if (r.stoppedBy === 'no_replicas') app.log.warn(line, `warm-up skipped: no replica for every environment with weight within ${Math.round(r.waitedMs / 1000)} s`);
        else if (r.stoppedBy === 'shutdown') app.log.info(line, `warm-up stopped by the shutdown after ${r.requests} requests`);
        else app.log.info(line, `warmed up with ${r.requests} requests in ${r.ms} ms${r.stoppedBy === 'max_ms' ? ' (warm_up.max_ms reached)' : ''}`);
      })
      .catch((err: unknown) => app.log.warn({ err }, 'warm-up failed'))
      .finally(() => {
        app.lifecycle.warming = false;
      });
  }
}

void main();
