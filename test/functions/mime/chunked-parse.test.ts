import { createHash } from 'node:crypto';

import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

import { parseInChunks } from '../../../functions/mime/chunked-parse';
import { corpusFile, corpusFiles } from '../../helpers/mime-corpus';
import { describeWithTool } from '../../helpers/tool-groups';

/**
 * parseInChunks must give exactly what simpleParser gives for the same bytes (it only changes how the bytes
 * reach mailparser), whatever the slice size and however the message is split into pieces: checked on every
 * corpus message, with slices that cut lines, CRLF pairs, base64 quartets and boundaries anywhere.
 */
const OPTIONS = {
  keepCidLinks: true,
  ignoreEmbedded: true,
  skipHtmlToText: true,
  skipTextLinks: true,
  checksumAlgo: false,
} as const;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Everything a caller can read from a parse, with attachment bytes as digests (keys compared too). */
function view(mail: ParsedMail): unknown {
  return {
    keys: Object.keys(mail).sort(),
    ...mail,
    headers: [...mail.headers.entries()],
    attachments: mail.attachments.map((a) => ({
      ...a,
      keys: Object.keys(a).sort(),
      content: sha256(a.content),
      headers: [...a.headers.entries()],
    })),
  };
}

async function outcome(parse: Promise<ParsedMail>): Promise<unknown> {
  try {
    return view(await parse);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

describeWithTool('mime-corpus', 'parseInChunks', () => {
  const files = corpusFiles();

  // mailparser dates a message without a valid Date header "now": both parses must see the same now.
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-02T10:00:00Z') });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('reads the corpus', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it.each(files)(
    'parses %s exactly as simpleParser does, in 64 KiB slices, 997-byte slices and split pieces',
    async (file) => {
      const bytes = corpusFile(file);
      const expected = await outcome(simpleParser(bytes, OPTIONS));
      expect(await outcome(parseInChunks([bytes], OPTIONS))).toEqual(expected);
      expect(await outcome(parseInChunks([bytes], OPTIONS, 997))).toEqual(expected);
      // Pieces that are not slice-aligned, and an empty piece: only their concatenation may matter.
      const cut = Math.floor(bytes.length / 3) + 1;
      const pieces = [bytes.subarray(0, cut), Buffer.alloc(0), bytes.subarray(cut)];
      expect(await outcome(parseInChunks(pieces, OPTIONS, 4093))).toEqual(expected);
    },
  );

  it('gives the same result byte by byte on a small multipart message with an attachment', async () => {
    const bytes = corpusFile('alt-related.eml');
    expect(await outcome(parseInChunks([bytes], OPTIONS, 1))).toEqual(
      await outcome(simpleParser(bytes, OPTIONS)),
    );
  });

  it('rejects as simpleParser does when the parser gives up (a header block over its limit)', async () => {
    const bytes = Buffer.from(`Subject: ${'x'.repeat(2 * 1024 * 1024)}\r\n\r\nbody\r\n`);
    const expected = await outcome(simpleParser(bytes, OPTIONS));
    expect(expected).toHaveProperty('error');
    expect(await outcome(parseInChunks([bytes], OPTIONS))).toEqual(expected);
  });
});
