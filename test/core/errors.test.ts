import { describe, expect, it } from 'vitest';

import {
  BridgeError,
  ERROR_TABLE,
  deserializeBridgeError,
  toBridgeError,
  type BridgeErrorCode,
} from '../../core/errors';

describe('ERROR_TABLE', () => {
  const codes = Object.keys(ERROR_TABLE) as BridgeErrorCode[];

  it.each(codes)(
    '%s: retryable exactly when the SMTP reply is 4xx, and the enhanced class agrees',
    (code) => {
      const row = ERROR_TABLE[code];
      expect(row.retryable).toBe(row.reply >= 400 && row.reply < 500);
      expect(row.reply).toBeGreaterThanOrEqual(400);
      expect(row.reply).toBeLessThan(600);
      expect(row.enhanced).toMatch(/^[45]\.\d{1,3}\.\d{1,3}$/);
      expect(row.enhanced[0]).toBe(String(row.reply)[0]);
      expect(row.hint.length).toBeGreaterThan(10);
      expect(row.httpStatus).toBeGreaterThanOrEqual(400);
    },
  );

  it('has upper-snake codes only', () => {
    for (const code of codes) expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  });
});

describe('BridgeError', () => {
  it('exposes responseCode for smtp-server and a quotable reply text', () => {
    const e = new BridgeError('SENDER_NOT_ALLOWED', { detail: 'scanner@example.com' });
    expect(e.responseCode).toBe(550);
    expect(e.smtpText('01ABC')).toBe(
      '5.7.1 SENDER_NOT_ALLOWED Sender not allowed: scanner@example.com (id 01ABC)',
    );
  });

  it('round-trips through JSON', () => {
    const e = new BridgeError('GRAPH_THROTTLED', {
      retryAfterMs: 7000,
      graph: { status: 429, code: 'ApplicationThrottled', requestId: 'r-1' },
    });
    const back = deserializeBridgeError(JSON.parse(JSON.stringify(e)));
    expect(back.code).toBe('GRAPH_THROTTLED');
    expect(back.retryAfterMs).toBe(7000);
    expect(back.graph).toEqual({ status: 429, code: 'ApplicationThrottled', requestId: 'r-1' });
    expect(back.retryable).toBe(true);
  });

  it('turns unknown codes and foreign errors into retryable INTERNAL', () => {
    expect(deserializeBridgeError({ code: 'NO_SUCH_CODE' }).code).toBe('INTERNAL');
    const e = toBridgeError(new TypeError('boom'));
    expect(e.code).toBe('INTERNAL');
    expect(e.retryable).toBe(true);
    expect(e.cause).toBeInstanceOf(TypeError);
  });
});
