import { describe, expect, it } from 'vitest';

import { repairEightBitHeaders } from '../../../functions/mime/eight-bit-headers';
import { readHeaderBlock, stripMboxSeparator } from '../../../functions/mime/raw-headers';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('repairEightBitHeaders', () => {
  it('leaves ASCII and valid UTF-8 headers alone (returns the same buffer)', () => {
    const mime = Buffer.from('Subject: Grüße 😀\r\nFrom: a@b.example\r\n\r\nbody \xff', 'utf8');
    expect(repairEightBitHeaders(mime)).toBe(mime);
  });

  it('re-encodes invalid UTF-8 fields from Windows-1252, including 0x80–0x9F', () => {
    const fixed = repairEightBitHeaders(
      bytes('Subject: \x80 5 \x84quoted\x93 na\xefve\r\nX-Ok: plain\r\n\r\nbody \xff'),
    );
    expect(fixed.toString('utf8').split('\r\n\r\n')[0]).toBe('Subject: € 5 „quoted“ naïve\r\nX-Ok: plain');
    expect(fixed.subarray(fixed.length - 1)[0]).toBe(0xff); // the body is not touched
  });

  it('prefers the charset of the top-level Content-Type when the bytes are valid in it (Big5, KOI8-R)', () => {
    const big5 = Buffer.concat([
      bytes('Subject: '),
      Buffer.from([0xa4, 0x6a, 0xae, 0x61]),
      bytes('\r\nContent-Type: text/plain; charset="big5"\r\n\r\nx'),
    ]);
    expect(repairEightBitHeaders(big5).toString('utf8')).toContain('Subject: 大家\r\n');
    const koi8 = Buffer.concat([
      bytes('Content-Type: text/plain; charset=koi8-r\r\nSubject: '),
      Buffer.from([0xf0, 0xd2, 0xc9]),
      bytes('\r\n\r\nx'),
    ]);
    expect(repairEightBitHeaders(koi8).toString('utf8')).toContain('Subject: При\r\n');
  });

  it('falls back to Windows-1252 when the declared charset is unknown or the bytes are invalid in it', () => {
    const unknown = bytes('Content-Type: text/plain; charset=x-made-up\r\nSubject: B\xfcro\r\n\r\nx');
    expect(repairEightBitHeaders(unknown).toString('utf8')).toContain('Subject: Büro\r\n');
    const notShiftJis = bytes('Content-Type: text/plain; charset=shift_jis\r\nSubject: \x80\xa0\r\n\r\nx');
    expect(repairEightBitHeaders(notShiftJis).toString('utf8')).toContain('Subject: €\u00a0\r\n');
  });
});

describe('readHeaderBlock and stripMboxSeparator', () => {
  it('reads folded fields with their byte ranges and the line ending', () => {
    const mime = bytes('Subject: a\n b\nTo: x@y.example\n\nbody');
    const block = readHeaderBlock(mime);
    expect(block.eol).toBe('\n');
    expect(block.fields.map((f) => [f.name, mime.subarray(f.start, f.end).toString()])).toEqual([
      ['Subject', 'Subject: a\n b\n'],
      ['To', 'To: x@y.example\n'],
    ]);
    expect(block.end).toBe(mime.indexOf('\n\n') + 1);
  });

  it('skips a whitespace line before the first field and stops at a line that is not a header', () => {
    const block = readHeaderBlock(
      bytes(`${' '.repeat(255)}\nSubject: s\r\nThis is no header\r\nX: y\r\n\r\n`),
    );
    expect(block.fields.map((f) => f.name)).toEqual(['Subject']);
  });

  it('strips only a leading mbox "From " line', () => {
    expect(stripMboxSeparator(bytes('From a@b Thu Feb 22 2007\nFrom: a@b\n\nx')).toString()).toBe(
      'From: a@b\n\nx',
    );
    expect(stripMboxSeparator(bytes('From: a@b\n\nx')).toString()).toBe('From: a@b\n\nx');
  });
});
