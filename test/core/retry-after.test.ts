import { describe, expect, it } from 'vitest';

import { parseHttpDate, parseRetryAfterMs } from '../../core/retry-after';

const now = Date.parse('2026-11-27T12:00:00Z');

describe('parseRetryAfterMs (RFC 9110 §10.2.3), the one reading of Retry-After on the edge and in the function', () => {
  it.each([
    ['7', 7000],
    ['0', 0],
    ['007', 7000],
    [' 120 ', 120_000],
    ['86400', 86_400_000],
  ])('reads delay-seconds %j as %d ms', (value, expected) => {
    expect(parseRetryAfterMs(value, now)).toBe(expected);
  });

  it.each([
    ['IMF-fixdate', 'Fri, 27 Nov 2026 12:00:30 GMT', 30_000],
    ['obsolete RFC 850 date', 'Friday, 27-Nov-26 12:01:00 GMT', 60_000],
    ['obsolete asctime date (GMT, not local time)', 'Fri Nov 27 12:00:05 2026', 5000],
    ['asctime with a one-digit day', 'Tue Dec  1 12:00:00 2026', 4 * 86_400_000],
    ['leap second', 'Fri, 27 Nov 2026 12:00:60 GMT', 60_000],
  ])('reads an HTTP-date, %s, as the time until then', (_name, value, expected) => {
    expect(parseRetryAfterMs(value, now)).toBe(expected);
  });

  it('reads a date in the past as 0 (retry now)', () => {
    expect(parseRetryAfterMs('Fri, 27 Nov 2026 11:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(0);
  });

  it.each([
    ['a fraction (delay-seconds is 1*DIGIT)', '1.5'],
    ['a negative number', '-5'],
    ['an explicit plus sign', '+5'],
    ['an exponent', '1e3'],
    ['hex', '0x10'],
    ['digits and words', '30 seconds'],
    ['a word', 'soon'],
    ['an empty value', ''],
    ['blanks', '   '],
    ['an ISO 8601 date (not an HTTP-date)', '2026-11-27T12:00:30Z'],
    ['a date in another zone', 'Fri, 27 Nov 2026 12:00:30 +0100'],
    ['a day that does not exist', 'Mon, 31 Feb 2026 12:00:30 GMT'],
    ['an hour that does not exist', 'Fri, 27 Nov 2026 24:00:30 GMT'],
    ['a lower-case month', 'Fri, 27 nov 2026 12:00:30 GMT'],
    ['a delay too long to count in ms', '99999999999999999999'],
  ])('refuses %s: undefined, so the caller’s own backoff applies', (_name, value) => {
    expect(parseRetryAfterMs(value, now)).toBeUndefined();
  });

  it('treats an absent header as undefined', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});

describe('parseHttpDate', () => {
  it('reads the three forms of RFC 9110 §5.6.7 as the same instant', () => {
    const expected = Date.parse('1994-11-06T08:49:37Z');
    const fixedNow = Date.parse('2000-01-01T00:00:00Z');
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', fixedNow)).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', fixedNow)).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', fixedNow)).toBe(expected);
  });

  it('puts a two-digit year more than 50 years ahead in the past century', () => {
    // From 2026: "76" is 2076 (50 years ahead, not more), "77" is 1977.
    expect(parseHttpDate('Sunday, 01-Nov-76 00:00:00 GMT', now)).toBe(Date.parse('2076-11-01T00:00:00Z'));
    expect(parseHttpDate('Monday, 01-Nov-77 00:00:00 GMT', now)).toBe(Date.parse('1977-11-01T00:00:00Z'));
    expect(parseHttpDate('Friday, 27-Nov-26 12:00:00 GMT', now)).toBe(now);
  });

  it('keeps a four-digit year below 100 as written (Date.UTC would make 0094 into 1994)', () => {
    expect(new Date(parseHttpDate('Sat, 06 Nov 0094 08:49:37 GMT', now)!).getUTCFullYear()).toBe(94);
  });
});
