/**
 * Turns the children's pino JSON lines into one short console line each:
 *
 *   12:04:31  edge      info   SPOOL_STORED  message stored  mid=… bytes=2214
 *
 * The raw lines stay in BRIDGE_DATA_DIR/logs/<process>.log. Lines that are not JSON pass through as they
 * are. Pure functions, so the format is tested without processes.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const PINO_LEVELS: Record<number, Level> = {
  10: 'debug',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'error',
};
const LEVEL_RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
/** Fields every line carries or that the short form shows elsewhere. */
const HIDDEN = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'service',
  'component',
  'site',
  'instance',
  'event',
  'msg',
  'v',
]);
const MAX_VALUE_CHARS = 80;

export interface FormattedLine {
  level: Level;
  text: string;
}

export function formatLogLine(name: string, line: string, now: Date = new Date()): FormattedLine {
  const prefix = name.padEnd(9);
  let obj: unknown;
  try {
    obj = line.startsWith('{') ? JSON.parse(line) : undefined;
  } catch {
    obj = undefined;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    return {
      level: /\b(error|fail|exception)\b/i.test(line) ? 'warn' : 'info',
      text: `${clock(now)}  ${prefix} ${line}`,
    };
  }
  const record = obj as Record<string, unknown>;
  const level = levelOf(record.level);
  const time =
    typeof record.time === 'number' || typeof record.time === 'string' ? new Date(record.time) : now;
  const event = typeof record.event === 'string' ? record.event : '';
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${short(v)}`);
  const parts = [
    clock(Number.isNaN(time.getTime()) ? now : time),
    ` ${prefix}`,
    level.padEnd(5),
    event,
    msg,
    fields.join(' '),
  ].filter((p) => p.trim() !== '');
  return { level, text: parts.join('  ') };
}

export function atLeast(level: Level, min: Level): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[min];
}

function levelOf(value: unknown): Level {
  if (typeof value === 'number') return PINO_LEVELS[value] ?? 'info';
  if (value === 'debug' || value === 'info' || value === 'warn' || value === 'error') return value;
  if (value === 'fatal') return 'error';
  return 'info';
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_VALUE_CHARS ? `${oneLine.slice(0, MAX_VALUE_CHARS - 1)}…` : oneLine;
}

function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}
