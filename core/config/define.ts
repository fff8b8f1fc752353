import { z } from 'zod';

import { LOG_LEVELS } from '../log';
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES_CEILING } from '../message-size';

/**
 * zod helpers for configuration schemas. Each process has one schema whose `.describe()` texts are also the
 * documentation: `npm run docs` generates docs/config-edge.md and docs/config-function.md from them, and a
 * test fails when those are stale.
 */

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses "35MB", "150 MiB", "1048576" into bytes. */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m?.[1] || unit === undefined)
    throw new Error(`not a size: "${value}" (use e.g. 35MB, 150MiB or a byte count)`);
  return Math.round(Number(m[1]) * unit);
}

/** Parses "5d", "30s", "250ms", "1500" (ms) into milliseconds. */
export function parseDurationMs(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m?.[2] ? DURATION_UNITS[m[2].toLowerCase()] : 1;
  if (!m?.[1] || unit === undefined)
    throw new Error(`not a duration: "${value}" (use e.g. 250ms, 30s, 5m, 5d)`);
  return Math.round(Number(m[1]) * unit);
}

/** A number as it is, or a text read by `parse`; what `parse` refuses becomes a zod issue with its message. */
const numberOrText = (parse: (value: string | number) => number) => () =>
  z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
    try {
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

/** A size setting: bytes, or a text such as 35MB or 150MiB. */
export const bytes = numberOrText(parseBytes);
/** A duration setting: ms, or a text such as 250ms, 30s, 5m, 5d. */
export const durationMs = numberOrText(parseDurationMs);

/** A comma-separated list in the environment, or an array in a file. Empty items are dropped. */
export const csvList = () =>
  z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));

export const port = () => z.coerce.number().int().min(0).max(65535);

export const bool = () =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
    .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on');

/**
 * BRIDGE_MAX_MESSAGE_BYTES, the same rule on both sides: a size of at least one byte, at most Exchange
 * Online's ceiling, 35 MiB when unset. Each side adds its own description.
 */
export const maxMessageBytes = () =>
  bytes()
    .pipe(
      z.number().int().positive().max(MAX_MESSAGE_BYTES_CEILING, 'at most 150MiB (Exchange Online limit)'),
    )
    .default(DEFAULT_MAX_MESSAGE_BYTES);

/** BRIDGE_LOG_LEVEL, the same setting on both sides. */
export const logLevel = () =>
  z.enum(LOG_LEVELS).default('info').describe('Lowest level logged: debug, info, warn, error.');

/** Formats every zod issue as one line each, so a config check prints all problems at once. */
export function formatIssues(error: z.ZodError, names: Record<string, string> = {}): string[] {
  return error.issues.map((i) => {
    const key = i.path.join('.');
    return `${names[key] ?? (key || '(root)')}: ${i.message}`;
  });
}
