import { describe, expect, it } from 'vitest';

import { atLeast, formatLogLine } from '../../../scripts/stack/log-lines';

describe('console lines of npm start', () => {
  const at = new Date(2026, 10, 27, 12, 4, 31);

  it('shortens a pino line to time, process, level, event, message and fields', () => {
    const line = JSON.stringify({
      level: 'info',
      time: at.toISOString(),
      service: 'edge-listener',
      site: 'local',
      event: 'SPOOL_STORED',
      msg: 'message stored',
      mid: '01m8',
      bytes: 2214,
    });
    expect(formatLogLine('edge', line)).toEqual({
      level: 'info',
      text: '12:04:31   edge       info   SPOOL_STORED  message stored  mid=01m8 bytes=2214',
    });
  });

  it('reads numeric pino levels and clips long values', () => {
    const f = formatLogLine(
      'function',
      JSON.stringify({ level: 40, time: at.getTime(), event: 'MESSAGE_DEFERRED', detail: 'x'.repeat(200) }),
    );
    expect(f.level).toBe('warn');
    expect(f.text).toContain(`detail=${'x'.repeat(79)}…`);
  });

  it('passes other lines through and treats error-looking ones as warnings', () => {
    expect(formatLogLine('azurite', 'Azurite Blob service is closing...', at)).toEqual({
      level: 'info',
      text: '12:04:31  azurite   Azurite Blob service is closing...',
    });
    expect(formatLogLine('azurite', 'Error: listen EADDRINUSE', at).level).toBe('warn');
    expect(atLeast('warn', 'info')).toBe(true);
    expect(atLeast('debug', 'info')).toBe(false);
  });
});
