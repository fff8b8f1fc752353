import pino from 'pino';

import { type Logger, REDACT_PATHS } from '../../core/log';

/**
 * JSON log lines of CLI actions on stderr — stdout stays for the command's own output (tables, --json) —
 * in the listener's format, so an ADMIN_ACTION from the CLI lands in the same log pipeline when captured.
 */
export function createCliLogger(): Logger {
  return pino(
    {
      level: 'info',
      base: { service: 'edge-cli', pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
