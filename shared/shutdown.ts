// SIGTERM/SIGINT: run the close function once (readiness flips, in-flight work drains), then exit 0.
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';

export function onShutdown(log: Logger, close: () => Promise<void>, delayMs = 30_000): void {
  closeWithGrace({ delay: delayMs }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'fatal error, shutting down');
    else log.info({ signal }, 'shutting down: draining in-flight work');
    await close();
    log.info('shutdown complete');
  });
}
