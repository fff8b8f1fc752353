import { toBridgeError } from '../core/errors';
import type { Logger } from '../core/log';

/**
 * Keeps a started listener running until SIGTERM, SIGINT or SIGBREAK (Windows console close / Ctrl+Break,
 * which service wrappers may send instead of Ctrl+C), then closes it gracefully: in-flight SMTP sessions and
 * POSTs drain, the spool keeps the rest. A second signal exits at once. Resolves to the process exit code.
 */
export function runUntilSignal(listener: { close(): Promise<void> }, logger: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ event: 'HOST_STOPPED', signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ event: 'HOST_STOPPED', signal }, 'stopping');
      listener.close().then(
        () => resolve(0),
        (e: unknown) => {
          logger.error({ event: 'HOST_STOPPED', err: toBridgeError(e) }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGBREAK', () => stop('SIGBREAK'));
  });
}
