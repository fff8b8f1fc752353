import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Envelope } from '../../core/envelope';
import { BridgeError } from '../../core/errors';
import {
  canonicalQuery,
  decodeFrame,
  EMPTY_SHA256,
  FrameDecoder,
  frameHead,
  sha256Hex,
  sign,
  signatureVersion,
  signedHeaders,
  signV1,
  verifySignature,
  WIRE_HEADERS,
} from '../../core/wire';

const envelope: Envelope = {
  messageId: '01JABCDEFGH-site1-0001',
  siteId: 'site-1',
  mailFrom: 'scanner@example.com',
  rcptTo: ['a@example.org', 'b@example.org'],
  clientAddress: '192.0.2.10',
  helo: 'XC-B8C463',
  receivedAt: '2026-11-27T10:00:00.000Z',
};

const addr = fc
  .tuple(fc.stringMatching(/^[a-z0-9.+_-]{1,20}$/), fc.stringMatching(/^[a-z0-9-]{1,20}\.[a-z]{2,6}$/))
  .map(([l, d]) => `${l}@${d}`);

describe('wire framing', () => {
  it('carries the MIME bytes unchanged (no base64) after the envelope', () => {
    const mime = Buffer.from('Subject: x\r\n\r\n\x00\xff binary\r\n', 'latin1');
    const body = Buffer.concat([frameHead(envelope), mime]);
    const out = decodeFrame(body);
    expect(out.envelope).toEqual(envelope);
    expect(out.mime.equals(mime)).toBe(true);
    expect(body.includes(mime)).toBe(true);
  });

  it('round-trips any envelope of up to 500 recipients and any bytes, however the body is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(addr, { minLength: 1, maxLength: 500 }),
        fc.uint8Array({ maxLength: 4096 }),
        fc.array(fc.integer({ min: 1, max: 997 }), { minLength: 1, maxLength: 8 }),
        (rcptTo, mime, cuts) => {
          const env = { ...envelope, rcptTo };
          const body = Buffer.concat([frameHead(env), mime]);
          const d = new FrameDecoder();
          const parts: Buffer[] = [];
          let pos = 0;
          let i = 0;
          while (pos < body.length) {
            const n = cuts[i++ % cuts.length]!;
            parts.push(d.push(body.subarray(pos, pos + n)));
            pos += n;
          }
          expect(d.finish()).toEqual(env);
          expect(Buffer.concat(parts).equals(Buffer.from(mime))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it.each([
    ['no head', Buffer.from('From: a@b\r\n\r\nx')],
    ['length too large', Buffer.from('SGB/1 9999999\r\n{}')],
    ['not json', Buffer.from('SGB/1 3\r\nabc\r\n')],
    ['envelope without recipients', Buffer.concat([Buffer.from('SGB/1 2\r\n{}\r\n')])],
    ['truncated', frameHead(envelope).subarray(0, 40)],
  ])('rejects %s with WIRE_MALFORMED', (_name, body) => {
    let err: unknown;
    try {
      decodeFrame(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('WIRE_MALFORMED');
  });

  it('rejects more than 500 recipients', () => {
    const rcptTo = Array.from({ length: 501 }, (_, i) => `r${i}@example.org`);
    expect(() => decodeFrame(frameHead({ ...envelope, rcptTo }))).toThrow(BridgeError);
  });
});

describe('request signature', () => {
  it('verifies what was signed and nothing else', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string(), (secret, path) => {
        const input = {
          method: 'POST',
          path,
          timestamp: '1700000000',
          messageId: envelope.messageId,
          bodySha256: EMPTY_SHA256,
        };
        const sig = sign(input, secret);
        expect(verifySignature(input, secret, sig)).toBe(true);
        expect(verifySignature({ ...input, timestamp: '1700000001' }, secret, sig)).toBe(false);
        expect(verifySignature({ ...input, bodySha256: sha256Hex('x') }, secret, sig)).toBe(false);
        expect(verifySignature(input, `${secret}x`, sig)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('builds headers whose signature the receiver can check', () => {
    const h = signedHeaders({
      siteId: 'site-1',
      messageId: envelope.messageId,
      bodySha256: EMPTY_SHA256,
      secret: 's3cret-s3cret-s3cret',
      now: new Date(1_700_000_000_000),
    });
    expect(h[WIRE_HEADERS.timestamp]).toBe('1700000000');
    const ok = verifySignature(
      {
        method: 'POST',
        path: '/api/v1/messages',
        timestamp: h[WIRE_HEADERS.timestamp]!,
        messageId: envelope.messageId,
        bodySha256: EMPTY_SHA256,
      },
      's3cret-s3cret-s3cret',
      h[WIRE_HEADERS.signature]!,
    );
    expect(ok).toBe(true);
  });
});

describe('canonical query (SGB/2)', () => {
  it('sorts, decodes and re-encodes: one meaning, one string', () => {
    expect(canonicalQuery(undefined)).toBe('');
    expect(canonicalQuery('')).toBe('');
    expect(canonicalQuery('?')).toBe('');
    expect(canonicalQuery('?b=2&a=%7e&a=%7E1')).toBe('a=~&a=~1&b=2');
    expect(canonicalQuery('mailbox=a@b.c')).toBe('mailbox=a%40b.c');
    expect(canonicalQuery('mailbox=a%40b.c')).toBe('mailbox=a%40b.c');
    expect(canonicalQuery('q=a+b')).toBe(canonicalQuery('q=a%20b'));
    expect(canonicalQuery('q=a+b')).toBe('q=a%20b');
    expect(canonicalQuery("x=!'()*")).toBe('x=%21%27%28%29%2A');
    expect(canonicalQuery('flag')).toBe('flag=');
    expect(canonicalQuery('x=%C3%A9')).toBe('x=%C3%A9');
    expect(canonicalQuery('x=%zz')).toBe('x=%25zz');
    // `&` and `=` inside a value stay distinct from the separators.
    expect(canonicalQuery('a=1%262')).not.toBe(canonicalQuery('a=1&2'));
    expect(canonicalQuery('a=%3D')).not.toBe(canonicalQuery('a%3D='));
  });

  it('is the same for the URLSearchParams the edge builds and the URL the function reads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 6 }), (pairs) => {
        const params = new URLSearchParams(pairs);
        const url = new URL(`https://bridge.example/api/v1/diagnostics?${params.toString()}`);
        expect(canonicalQuery(url.search)).toBe(canonicalQuery(params));
        const reversed = new URLSearchParams([...params].reverse());
        expect(canonicalQuery(reversed)).toBe(canonicalQuery(params));
      }),
      { numRuns: 200 },
    );
  });
});

describe('signature versions', () => {
  const input = {
    method: 'GET',
    path: '/api/v1/diagnostics',
    timestamp: '1700000000',
    messageId: 'doctor-0011223344556677',
    bodySha256: EMPTY_SHA256,
  };
  const secret = 's3cret-s3cret-s3cret';

  it('signs SGB/2 as v2=<mac> over the query as well', () => {
    const sig = sign({ ...input, query: 'mailbox=a%40b.c' }, secret);
    expect(sig).toMatch(/^v2=[A-Za-z0-9_-]{43}$/);
    expect(signatureVersion(sig)).toBe(2);
    expect(verifySignature({ ...input, query: '?mailbox=a@b.c' }, secret, sig)).toBe(true);
    expect(verifySignature({ ...input, query: 'mailbox=x%40b.c' }, secret, sig)).toBe(false);
    expect(verifySignature({ ...input, query: 'mailbox=a%40b.c&mailbox=x%40b.c' }, secret, sig)).toBe(false);
    expect(verifySignature(input, secret, sig)).toBe(false);
  });

  it('accepts an SGB/1 signature only without a query, and never a v1 MAC relabelled v2', () => {
    const v1 = signV1(input, secret);
    expect(signatureVersion(v1)).toBe(1);
    expect(verifySignature(input, secret, v1)).toBe(true);
    expect(verifySignature({ ...input, query: '' }, secret, v1)).toBe(true);
    // The tampered-query replay: the v1 MAC is the same whatever the query, so a query must void it.
    expect(verifySignature({ ...input, query: 'mailbox=other%40b.c' }, secret, v1)).toBe(false);
    expect(verifySignature(input, secret, `v2=${v1}`)).toBe(false);
    expect(verifySignature(input, secret, sign(input, secret).slice(3))).toBe(false);
  });
});
