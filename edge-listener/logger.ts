import pino from 'pino';

import { type Logger, type LogLevel, REDACT_PATHS } from '../core/log';

/**
 * pino JSON lines to stdout. Every line carries an `event` code (core/log.ts); REDACT_PATHS removes secret
 * and body fields should one ever be passed by mistake.
 *
 * Lines are written asynchronously: while one write is in progress, the next lines gather and go out
 * together in the following one, so the SMTP thread does not stop for a write(2) per line (two lines a
 * message at info). A quiet listener still writes each line at once (no minimum length), and pino flushes
 * what is pending when the process exits; only a SIGKILL can lose the last lines, never a message — the
 * spool is the record of those.
 */
export function createEdgeLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'edge-listener', ...bindings },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
