import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { BridgeError, bridgeError } from '../../../core/errors';
import type { DeliveryPlan } from '../../../functions/delivery/delivery-plan';
import { checkDelivery, planDelivery } from '../../../functions/mime/plan';
import {
  HEAD_BYTES,
  JoinedBytes,
  type MimeBytes,
  type MimeSource,
  type MimeStream,
} from '../../../functions/mime/raw-mime';
import { envelope, SITE_POLICY } from './plan-helpers';
import { corpusFile, corpusFiles } from '../../helpers/mime-corpus';
import { describeWithTool } from '../../helpers/tool-groups';

/**
 * A message handed over in chunks, or as a stream read once (as a blob download delivers it), must plan
 * exactly as the same bytes in one Buffer: same plan, same attachment bytes, same S/MIME bytes, same refusal —
 * wherever the chunk borders fall (inside the mbox line, the header block, a boundary line, a CRLF). The
 * checks without content (checkDelivery, the HTTP intake of a message it queues) must decide the same.
 */
const rcpt = envelope(['alice@corp.example', 'bob@corp.example']);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The plan with its bytes as digests (a deep comparison of megabyte Buffers is slow), or the refusal code. */
async function outcome(mime: MimeSource): Promise<unknown> {
  try {
    const plan: DeliveryPlan = await planDelivery(mime, rcpt, SITE_POLICY);
    return {
      ...plan,
      mime: plan.mime === undefined ? undefined : sha256(plan.mime),
      attachments: plan.attachments.map((a) => ({ ...a, content: sha256(a.content) })),
    };
  } catch (err) {
    if (err instanceof BridgeError) return { code: err.code };
    throw err;
  }
}

/** What checkDelivery decides, in the plan's terms (its fields of the plan), or the refusal code. */
async function checked(mime: MimeBytes): Promise<unknown> {
  try {
    return await checkDelivery(mime, rcpt, SITE_POLICY);
  } catch (err) {
    if (err instanceof BridgeError) return { code: err.code };
    throw err;
  }
}

function checksOf(planned: unknown): unknown {
  if (typeof planned !== 'object' || planned === null || 'code' in planned) return planned;
  const p = planned as DeliveryPlan;
  return {
    mailbox: p.mailbox,
    kind: p.kind,
    internetMessageId: p.internetMessageId,
    saveToSentItems: p.saveToSentItems,
    senderRewritten: p.senderRewritten,
    recipients: p.recipients,
  };
}

/** The chunks as a stream read once; `seen` tells how far it was read and whether it was closed. */
function streamOf(
  chunks: Buffer[],
  failAt?: number,
): MimeStream & { seen: { read: number; closed: boolean } } {
  const seen = { read: 0, closed: false };
  async function* chunksOf(): AsyncGenerator<Buffer> {
    try {
      for (const chunk of chunks) {
        if (seen.read === failAt) throw bridgeError('STORAGE_UNAVAILABLE', { detail: 'download broke' });
        seen.read += 1;
        await Promise.resolve(); // a network read is never synchronous
        yield chunk;
      }
    } finally {
      seen.closed = true;
    }
  }
  return { chunks: chunksOf(), byteLength: chunks.reduce((n, c) => n + c.length, 0), seen };
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated), keeping an empty chunk where two cuts meet. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => Math.min(o, bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Every `size` bytes, as separate copies (network chunks are separate allocations). */
function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(Buffer.from(bytes.subarray(i, i + size)));
  return chunks;
}

describeWithTool('mime-corpus', 'planDelivery with the message in chunks', () => {
  const files = corpusFiles();

  // mailparser dates a message without a valid Date header "now": both plans must see the same now.
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-02T10:00:00Z') });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it.each(files)(
    'plans %s as from one Buffer, in 16 KiB chunks, in 3 uneven ones and streamed; checks decide the same',
    async (file) => {
      const bytes = corpusFile(file);
      const expected = await outcome(bytes);
      expect(await outcome(chunked(bytes, 16 * 1024))).toEqual(expected);
      const third = Math.floor(bytes.length / 3);
      expect(await outcome(cut(bytes, [7, third, 2 * third + 1]))).toEqual(expected);
      const stream = streamOf(chunked(bytes, 16 * 1024));
      expect(await outcome(stream)).toEqual(expected);
      expect(stream.seen.closed).toBe(true);
      expect(await checked(chunked(bytes, 16 * 1024))).toEqual(checksOf(expected));
    },
  );

  it('cuts anywhere in small messages, mbox line and empty chunks included, without changing the plan', async () => {
    const messages = [
      'From scanner@site.example Thu Feb 22 11:20:31 2007\r\nFrom: a@site.example\r\nTo: alice@corp.example\r\nSubject: x\r\n\r\nbody\r\n',
      'From scanner@site.example Thu Feb 22 11:20:31 2007\n',
      'no header here\r\njust text\r\n',
      'Subject: B\xfcro\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n',
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n--bx\r\n',
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\r\nTo: x@corp.example\r\n\r\n--s\r\n\r\nsigned\r\n--s--\r\n',
      // Parts check: a delimiter not at a line start, one only at the very end, a close delimiter only.
      'Content-Type: multipart/mixed; boundary=bb\r\n\r\ntext x--bb\r\nmore\r\n',
      'Content-Type: multipart/mixed; boundary=bb\r\n\r\ntext\r\n--bb',
      'Content-Type: multipart/mixed; boundary=bb\r\n\r\ntext\r\n--bb--\r\n',
      'Content-Type: multipart/mixed; boundary=bb\n\n--bb\nContent-Type: text/plain\n\nhi\n',
    ].map((m) => Buffer.from(m, 'latin1'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...messages),
        fc.array(fc.nat({ max: 200 }), { maxLength: 6 }),
        async (bytes, offsets) => {
          const expected = await outcome(bytes);
          expect(await outcome(cut(bytes, offsets))).toEqual(expected);
          expect(await outcome(streamOf(cut(bytes, offsets)))).toEqual(expected);
          expect(await checked(cut(bytes, offsets))).toEqual(checksOf(expected));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads the header block from chunks even when it is longer than one chunk', async () => {
    const subject = 'S'.repeat(300_000);
    const bytes = Buffer.from(
      `From: a@site.example\r\nTo: alice@corp.example\r\nSubject: ${subject}\r\n\r\nbody\r\n`,
    );
    expect(bytes.length).toBeLessThan(HEAD_BYTES);
    expect(await outcome(chunked(bytes, 4096))).toEqual(await outcome(bytes));
  });
});

describe('planDelivery from a stream', () => {
  const scan = (kb: number) =>
    Buffer.from(
      'From: scanner@site.example\r\nTo: alice@corp.example\r\nSubject: scan\r\n' +
        'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nscan\r\n' +
        '--b\r\nContent-Type: application/pdf; name=s.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        `${'QUJD'
          .repeat(19)
          .concat('\r\n')
          .repeat(kb * 14)}--b--\r\n`,
    );

  it('plans a message longer than the head from a stream as from one Buffer, S/MIME bytes included', async () => {
    const signed = Buffer.concat([
      Buffer.from(
        'From: scanner@site.example\r\nTo: alice@corp.example\r\nSubject: signed\r\n' +
          'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\r\n\r\n--s\r\n',
      ),
      scan(3000).subarray(0, 2_500_000),
      Buffer.from('\r\n--s\r\nContent-Type: application/pkcs7-signature\r\n\r\nMIIB\r\n--s--\r\n'),
    ]);
    for (const bytes of [scan(3000), signed]) {
      expect(bytes.length).toBeGreaterThan(HEAD_BYTES);
      const expected = await outcome(bytes);
      expect(expected).not.toHaveProperty('code');
      expect(await outcome(streamOf(chunked(bytes, 64 * 1024)))).toEqual(expected);
      expect(await outcome(streamOf(chunked(bytes, 997)))).toEqual(expected);
    }
    expect(await outcome(signed)).toMatchObject({ kind: 'mime' });
  });

  it("throws the stream's own error (a storage failure is not a broken message) and closes it", async () => {
    const stream = streamOf(chunked(scan(3000), 64 * 1024), 40);
    await expect(planDelivery(stream, rcpt, SITE_POLICY)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(stream.seen.read).toBe(40);
    expect(stream.seen.closed).toBe(true);
  });

  it('gives the stream up, unread, when the parser refuses the message early', async () => {
    const big = Buffer.concat([
      Buffer.from(`Subject: ${'x'.repeat(1_100_000)}\r\n\r\n`),
      scan(3000).subarray(0, 3_000_000),
    ]);
    const stream = streamOf(chunked(big, 64 * 1024));
    await expect(planDelivery(stream, rcpt, SITE_POLICY)).rejects.toMatchObject({ code: 'MIME_UNPARSEABLE' });
    expect(stream.seen.read).toBeLessThan(Math.ceil(big.length / (64 * 1024)));
    expect(stream.seen.closed).toBe(true);
  });

  it('refuses an empty stream, and one of whitespace only, as an empty message', async () => {
    await expect(planDelivery(streamOf([]), rcpt, SITE_POLICY)).rejects.toMatchObject({
      code: 'MIME_UNPARSEABLE',
      detail: 'the message is empty',
    });
    const spaces = chunked(Buffer.alloc(HEAD_BYTES + 70_000, ' '), 64 * 1024);
    await expect(planDelivery(streamOf(spaces), rcpt, SITE_POLICY)).rejects.toMatchObject({
      code: 'MIME_UNPARSEABLE',
      detail: 'the message is empty',
    });
  });
});

describe('JoinedBytes', () => {
  it('finds what Buffer.indexOf finds and reads the same bytes, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a.map((b) => 0x61 + (b % 3)))),
        fc.array(fc.nat({ max: 130 }), { maxLength: 8 }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a.map((b) => 0x61 + (b % 3)))),
        fc.nat({ max: 125 }),
        (bytes, offsets, needle, from) => {
          const joined = new JoinedBytes(cut(bytes, offsets));
          expect(joined.length).toBe(bytes.length);
          expect(joined.indexOf(needle, from)).toBe(from >= bytes.length ? -1 : bytes.indexOf(needle, from));
          expect(joined.at(from)).toBe(bytes[from]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
