import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { BridgeError } from '../../../core/errors';
import type { DeliveryPlan } from '../../../functions/delivery/delivery-plan';
import { planDelivery } from '../../../functions/mime/plan';
import { HEAD_BYTES, JoinedBytes, type MimeBytes } from '../../../functions/mime/raw-mime';
import { envelope, SITE_POLICY } from './plan-helpers';
import { corpusFile, corpusFiles } from '../../helpers/mime-corpus';
import { describeWithTool } from '../../helpers/tool-groups';

/**
 * A message handed over in chunks (as a blob download delivers it) must plan exactly as the same bytes in one
 * Buffer: same plan, same attachment bytes, same S/MIME bytes, same refusal — wherever the chunk borders fall
 * (inside the mbox line, the header block, a boundary line, a CRLF).
 */
const rcpt = envelope(['alice@corp.example', 'bob@corp.example']);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The plan with its bytes as digests (a deep comparison of megabyte Buffers is slow), or the refusal code. */
async function outcome(mime: MimeBytes): Promise<unknown> {
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

  it.each(files)('plans %s as from one Buffer, in 16 KiB chunks and in 3 uneven ones', async (file) => {
    const bytes = corpusFile(file);
    const expected = await outcome(bytes);
    expect(await outcome(chunked(bytes, 16 * 1024))).toEqual(expected);
    const third = Math.floor(bytes.length / 3);
    expect(await outcome(cut(bytes, [7, third, 2 * third + 1]))).toEqual(expected);
  });

  it('cuts anywhere in small messages, mbox line and empty chunks included, without changing the plan', async () => {
    const messages = [
      'From scanner@site.example Thu Feb 22 11:20:31 2007\r\nFrom: a@site.example\r\nTo: alice@corp.example\r\nSubject: x\r\n\r\nbody\r\n',
      'From scanner@site.example Thu Feb 22 11:20:31 2007\n',
      'no header here\r\njust text\r\n',
      'Subject: B\xfcro\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n',
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n--bx\r\n',
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\r\nTo: x@corp.example\r\n\r\n--s\r\n\r\nsigned\r\n--s--\r\n',
    ].map((m) => Buffer.from(m, 'latin1'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...messages),
        fc.array(fc.nat({ max: 200 }), { maxLength: 6 }),
        async (bytes, offsets) => {
          expect(await outcome(cut(bytes, offsets))).toEqual(await outcome(bytes));
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
