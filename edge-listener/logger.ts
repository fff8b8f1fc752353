import pino from 'pino';

import { type Logger, REDACT_PATHS } from '../core/log';
import type { LogLevel } from './config';

/**
 * pino JSON lines to stdout. Every line carries an `event` code (core/log.ts); REDACT_PATHS removes secret
 * and body fields should one ever be passed by mistake.
 */
export function createEdgeLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'edge-listener', ...bindings },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
