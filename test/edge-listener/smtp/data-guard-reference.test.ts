import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DataGuard } from '../../../edge-listener/smtp/data-guard';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * The rules of DataGuard written the plain way, to check its indexOf fast path against: split the data
 * into lines at CRLF, bare LF and bare CR, then judge each line. Deliberately shares no code or state
 * machine with the guard.
 */
function referenceVerdict(bytes: Uint8Array): string | undefined {
  type End = 'crlf' | 'lf' | 'cr' | 'eof';
  const lines: Array<{ text: number[]; end: End }> = [];
  let text: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === CR && bytes[i + 1] === LF) {
      lines.push({ text, end: 'crlf' });
      i++;
    } else if (c === CR) lines.push({ text, end: 'cr' });
    else if (c === LF) lines.push({ text, end: 'lf' });
    else {
      text.push(c);
      continue;
    }
    text = [];
  }
  lines.push({ text, end: 'eof' });

  let smuggling = false;
  let bareCr = false;
  lines.forEach((line, k) => {
    const endBefore = k === 0 ? 'crlf' : lines[k - 1]!.end; // DATA starts after the client's CRLF
    if (line.end === 'cr') {
      bareCr = true;
      if (line.text.at(-1) === DOT || lines[k + 1]!.text[0] === DOT) smuggling = true; // bare CR next to a dot
    }
    const loneDot = line.text.length === 1 && line.text[0] === DOT;
    if (loneDot && line.end !== 'eof' && (endBefore !== 'crlf' || line.end !== 'crlf')) smuggling = true;
  });
  return smuggling ? 'SUSPECTED_SMUGGLING' : bareCr ? 'BARE_CR' : undefined;
}

function guardVerdict(bytes: Uint8Array, cuts: number[]): string | undefined {
  const guard = new DataGuard();
  let at = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    guard.push(bytes.subarray(at, cut));
    at = cut;
  }
  guard.push(bytes.subarray(at));
  return guard.finish();
}

/** Messages made of the bytes that matter (CR, LF, dot) between runs of ordinary bytes the fast path skips. */
const piece = fc.oneof(
  fc.constantFrom('\r', '\n', '.', '\r\n', '\r\n.\r\n', '\n.\n', '.\r'),
  fc
    .tuple(fc.constantFrom('a', 'x', '\x00', '\xff', ' '), fc.integer({ min: 1, max: 300 }))
    .map(([c, n]) => c.repeat(n)),
);
const message = fc.array(piece, { maxLength: 60 }).map((p) => Buffer.from(p.join(''), 'latin1'));

describe('DataGuard against a line-by-line reference of the same rules', () => {
  it('agrees with the reference on the hand-picked smuggling and bare-CR cases', () => {
    for (const data of [
      'text\n.\nMAIL\r\n',
      'a\r\n.\r\nb\r\n',
      'x.\ry\r\n',
      'x\r.y',
      'a\n.',
      'a\r',
      '.\n',
      '\r\r\n',
      '',
    ]) {
      const bytes = Buffer.from(data, 'latin1');
      expect(guardVerdict(bytes, []), JSON.stringify(data)).toBe(referenceVerdict(bytes));
    }
  });

  it('gives the reference verdict for any message, however it is split into chunks', () => {
    fc.assert(
      fc.property(message, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const at = cuts.map((c) => (bytes.length ? c % bytes.length : 0));
        expect(guardVerdict(bytes, at)).toBe(referenceVerdict(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives the reference verdict for arbitrary bytes rich in CR, LF and dots', () => {
    const byte = fc.oneof(fc.constantFrom(CR, LF, DOT), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 400 }), fc.array(fc.nat(), { maxLength: 4 }), (arr, cuts) => {
        const bytes = Uint8Array.from(arr); // a plain Uint8Array, not a Buffer, as some streams hand over
        const at = cuts.map((c) => (bytes.length ? c % bytes.length : 0));
        expect(guardVerdict(bytes, at)).toBe(referenceVerdict(bytes));
      }),
      { numRuns: 5000 },
    );
  });
});
