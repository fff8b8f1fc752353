import { describe, expect, it } from 'vitest';

import { decodeWords, headerSummary } from '../../../edge-listener/status-page/message-headers';

describe('message headers for the status page', () => {
  it('reads Subject and From from the header block only, unfolded', () => {
    const mime = Buffer.from(
      'Received: x\r\nFrom: "Scanner 3F" <scan@example.com>\r\nSubject: Scan of\r\n  12 pages\r\n\r\nSubject: not a header\r\n',
    );
    expect(headerSummary(mime)).toEqual({
      from: '"Scanner 3F" <scan@example.com>',
      subject: 'Scan of 12 pages',
    });
  });

  it('decodes RFC 2047 words in B and Q encoding and other charsets, joining adjacent words', () => {
    expect(decodeWords('=?UTF-8?B?U2NhbiDinJM=?= =?UTF-8?Q?_M=C3=A4rz?=')).toBe('Scan ✓ März');
    expect(decodeWords('=?ISO-8859-1?Q?Gr=FC=DFe?= from =?utf-8*de?Q?K=C3=B6ln?=')).toBe('Grüße from Köln');
    expect(decodeWords('=?x-unknown?Q?a?=')).toBe('=?x-unknown?Q?a?=');
  });

  it('keeps raw UTF-8 headers (RFC 6532) and leaves no subject when there is none', () => {
    expect(headerSummary(Buffer.from('Subject: Überweisung\n\nbody'))).toEqual({ subject: 'Überweisung' });
    expect(headerSummary(Buffer.from('To: a@example.com\r\n\r\n'))).toEqual({});
  });
});
