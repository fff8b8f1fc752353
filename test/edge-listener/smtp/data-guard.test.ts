import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DataGuard } from '../../../edge-listener/smtp/data-guard';

function verdict(data: string, cuts: number[] = []): string | undefined {
  const bytes = Buffer.from(data, 'latin1');
  const g = new DataGuard();
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b)) {
    g.push(bytes.subarray(at, cut));
    at = cut;
  }
  g.push(bytes.subarray(at));
  return g.finish();
}

describe('DataGuard (mox rules on unstuffed DATA)', () => {
  it.each([
    ['text\n.\nMAIL FROM:<x>\r\n', 'SUSPECTED_SMUGGLING'],
    ['text\n.\r\nMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['text\r\n.\nMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['text\r.\rMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['text\r\n.\rMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['text\r.\r\nMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['.\nMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['\n.\nMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['.\rMAIL\r\n', 'SUSPECTED_SMUGGLING'],
    ['end of sentence.\rnext\r\n', 'SUSPECTED_SMUGGLING'],
    ['Subject: a\rBcc: b\r\n\r\nx\r\n', 'BARE_CR'],
    ['trailing bare CR\r', 'BARE_CR'],
  ])('refuses %j', (data, code) => {
    expect(verdict(data)).toBe(code);
  });

  it.each([
    'Subject: crlf\r\n\r\nbody\r\n',
    'Subject: lf\n\nline 1\nline 2.\nend.\n',
    'a stuffed lone dot\r\n.\r\nstays\r\n',
    '.leading dot line\r\n..two\r\n',
    'dots.in.the.middle\nand .here\n',
    '\x00binary\xff\r\n',
    '',
  ])('accepts %j', (data) => {
    expect(verdict(data)).toBeUndefined();
  });

  it('gives the same verdict however the data is split into chunks', () => {
    const alphabet = fc.constantFrom('\r', '\n', '.', 'a', ' ');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 39 }), { maxLength: 6 }),
        (chars, cuts) => {
          const data = chars.join('');
          expect(verdict(data, cuts)).toBe(verdict(data));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('judges large chunks (scanned with indexOf) exactly like the same bytes fed one at a time', () => {
    const alphabet = fc.constantFrom('\r', '\n', '.', 'a', 'b', ' ');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 200 }), (chars) => {
        const data = chars.join('');
        const one = new DataGuard();
        for (const b of Buffer.from(data, 'latin1')) one.push(Buffer.from([b]));
        expect(verdict(data)).toBe(one.finish());
      }),
      { numRuns: 3000 },
    );
  });

  it('flags every lone-dot line that is not CRLF on both sides, and nothing CRLF-clean', () => {
    const line = fc.stringMatching(/^[a-z. ]{0,6}$/);
    const eol = fc.constantFrom('\r\n', '\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(line, eol), { maxLength: 8 }), (lines) => {
        const data = lines.map(([l, e]) => l + e).join('');
        const bareDotLine = lines.some(
          ([l, e], i) => l === '.' && (e === '\n' || (i === 0 ? false : lines[i - 1]![1] === '\n')),
        );
        const v = verdict(data);
        if (bareDotLine) expect(v).toBe('SUSPECTED_SMUGGLING');
        else expect(v).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});
