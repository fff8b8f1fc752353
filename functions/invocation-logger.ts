import type { InvocationContext } from '@azure/functions';

import { BridgeError } from '../core/errors';
import { REDACT_PATHS, type LogFields, type Logger, type LogLevel } from '../core/log';

/**
 * core/log.ts Logger on top of InvocationContext, so every line reaches Application Insights with the
 * invocation id for correlation. Each line is one JSON object (queryable in Log Analytics with parse_json).
 * Keys that may hold secrets or content are dropped here as well as never being passed (second line of
 * defence, same list as pino's redaction on the edge).
 */
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED_KEYS = new Set(REDACT_PATHS.filter((p) => /^[A-Za-z]+$/.test(p)).map((p) => p.toLowerCase()));

export function invocationLogger(
  context: InvocationContext,
  minLevel: LogLevel = 'info',
  bindings: Record<string, unknown> = {},
): Logger {
  const write = (level: LogLevel) => (obj: LogFields, msg?: string) => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    const line = JSON.stringify(
      sanitize({ level, ...bindings, ...obj, ...(msg === undefined ? {} : { msg }) }, 0),
    );
    if (level === 'debug') context.debug(line);
    else if (level === 'info') context.info(line);
    else if (level === 'warn') context.warn(line);
    else context.error(line);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => invocationLogger(context, minLevel, { ...bindings, ...more }),
  };
}

/** Errors become {code, message}; redacted keys disappear; depth is bounded. */
function sanitize(value: unknown, depth: number): unknown {
  if (value instanceof BridgeError) {
    const out: Record<string, unknown> = {
      code: value.code,
      message: value.message,
      retryable: value.retryable,
    };
    if (value.graph) out.graph = value.graph;
    if (value.retryAfterMs !== undefined) out.retryAfterMs = value.retryAfterMs;
    return out;
  }
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 4) return '[…]';
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (REDACTED_KEYS.has(k.toLowerCase())) continue;
    out[k] = sanitize(v, depth + 1);
  }
  return out;
}
