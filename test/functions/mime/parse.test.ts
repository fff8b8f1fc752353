import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BridgeError } from '../../../core/errors';
import type { DeliveryPlan } from '../../../functions/delivery/delivery-plan';
import { planDelivery } from '../../../functions/mime/plan';
import { corpusFile } from '../../helpers/mime-corpus';
import { requireTool } from '../../helpers/tool-groups';
import { envelope, eml, SITE_POLICY } from './plan-helpers';

const rcpt = envelope(['alice@corp.example', 'bob@corp.example']);

async function outcome(mime: Buffer): Promise<DeliveryPlan | BridgeError> {
  try {
    return await planDelivery(mime, rcpt, SITE_POLICY);
  } catch (err) {
    if (err instanceof BridgeError) return err;
    throw err; // anything else fails the test: planDelivery may only throw BridgeError
  }
}

/** What every plan must satisfy, whatever the input: the checks the fuzz runs on each accepted message. */
function expectSanePlan(plan: DeliveryPlan): void {
  expect(plan.recipients).toEqual(['alice@corp.example', 'bob@corp.example']);
  if (plan.kind === 'mime') {
    expect(plan.mime).toBeInstanceOf(Buffer);
    return;
  }
  // eslint-disable-next-line no-control-regex -- control characters are what this matches
  expect(plan.message?.subject).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  expect(Array.from(plan.message?.subject ?? '').length).toBeLessThanOrEqual(255);
  expect(plan.message?.body?.content).not.toContain('\u0000');
  for (const a of plan.attachments) {
    expect(a.name.length).toBeGreaterThan(0);
    expect(Array.from(a.name).length).toBeLessThanOrEqual(255);
    // eslint-disable-next-line no-control-regex -- control characters are what this matches
    expect(a.name).not.toMatch(/[/\\<>:"|?*\u0000-\u001f]/);
    expect(a.contentType).toMatch(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/);
    expect(a.content).toBeInstanceOf(Buffer);
  }
}

describe('planDelivery on damaged input: a defined outcome for each case', () => {
  it('refuses empty or blank data (and an mbox line alone) with MIME_UNPARSEABLE', async () => {
    for (const data of ['', '\r\n\r\n', '   \t\n', 'From scanner@site.example Thu Feb 22 11:20:31 2007\n']) {
      const result = await outcome(Buffer.from(data));
      expect(result, JSON.stringify(data)).toBeInstanceOf(BridgeError);
      expect((result as BridgeError).code).toBe('MIME_UNPARSEABLE');
    }
  });

  it('sends data without any header field as its text, with an empty subject (corpus hdr-none.eml)', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const plan = (await outcome(corpusFile('hdr-none.eml'))) as DeliveryPlan;
    expect(plan.message?.subject).toBe('');
    expect(plan.message?.body?.content).toContain('This is a simple message not having headers.');
    expect(plan.mailbox).toBe('scanner@site.example'); // MAIL FROM stands in for the missing From
  });

  it('refuses a multipart whose boundary never opens a part, and plans empty or unterminated ones', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    for (const file of ['nul-malformed.eml', 'missing-boundary.eml', '8bit-garbage-hdr.eml']) {
      expect(((await outcome(corpusFile(file))) as BridgeError).code, file).toBe('MIME_UNPARSEABLE');
    }
    const empty = (await outcome(corpusFile('false-multipart.eml'))) as DeliveryPlan;
    expect(empty.message?.body?.content).toBe('');
    const unterminated = (await outcome(
      eml(
        'From: scanner@site.example',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: application/pdf; name=scan.pdf',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0xLjQ=',
      ),
    )) as DeliveryPlan;
    expect(unterminated.attachments.map((a) => [a.name, a.content.toString('latin1')])).toEqual([
      ['scan.pdf', '%PDF-1.4'],
    ]);
    expect(await outcome(corpusFile('no-end-boundary.eml'))).not.toBeInstanceOf(BridgeError);
  });

  it('removes NUL from subject and body text but keeps NUL and bare CR in attachment bytes', async () => {
    const binary = Buffer.from([0x00, 0x0d, 0x41, 0x0d, 0x0a, 0x00]);
    const mime = Buffer.concat([
      Buffer.from(
        'From: scanner@site.example\r\nSubject: =?utf-8?q?Scan=00_one?= two\rthree\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n',
      ),
      Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\nbody\x00text\r\n'),
      Buffer.from(
        `--b\r\nContent-Type: application/octet-stream; name=raw.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${binary.toString('base64')}\r\n--b--\r\n`,
      ),
    ]);
    const plan = (await outcome(mime)) as DeliveryPlan;
    expect(plan.message?.subject).toBe('Scan one two three');
    expect(plan.message?.body).toEqual({ contentType: 'text', content: 'bodytext' });
    expect(plan.attachments[0]?.content.equals(binary)).toBe(true);
  });

  it('refuses what exceeds the parser limits (1000 parts, 1 MB of header) with MIME_UNPARSEABLE', async () => {
    const parts = Array.from(
      { length: 1001 },
      (_, i) => `--b\r\nContent-Disposition: attachment; filename=f${i}.txt\r\n\r\nx\r\n`,
    ).join('');
    const tooMany = Buffer.from(
      `From: scanner@site.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`,
    );
    const tooLong = Buffer.from(
      `From: scanner@site.example\r\nSubject: ${'x'.repeat(1_100_000)}\r\n\r\nbody`,
    );
    for (const mime of [tooMany, tooLong])
      expect(((await outcome(mime)) as BridgeError).code).toBe('MIME_UNPARSEABLE');
  });

  it('fuzz: arbitrary bytes give a sane plan or MIME_UNPARSEABLE, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        const result = await outcome(Buffer.from(bytes));
        if (result instanceof BridgeError) expect(result.code).toBe('MIME_UNPARSEABLE');
        else expectSanePlan(result);
      }),
      { numRuns: 300 },
    );
  });

  it('fuzz: MIME-shaped text from header, boundary and encoding fragments gives a sane plan or MIME_UNPARSEABLE', async () => {
    const fragment = fc.constantFrom(
      'From: ',
      'To: ',
      'Subject: ',
      'Content-Type: ',
      'multipart/mixed; boundary=b',
      'multipart/signed; protocol="application/pkcs7-signature"; boundary=b',
      'application/pkcs7-mime',
      'text/html',
      'message/rfc822',
      'Content-Transfer-Encoding: base64',
      'quoted-printable',
      'Content-ID: <x@y>',
      "Content-Disposition: attachment; filename*=utf-8''%E2%9C%93.pdf",
      '=?utf-8?b?w6k=?=',
      '=?x?q?',
      '--b',
      '--b--',
      'a@corp.example',
      '<>',
      ';',
      ':',
      '"',
      '\r\n',
      '\n',
      '\r',
      '\r\n\r\n',
      ' ',
      '\t',
      '\u0000',
      'é',
      '<img src="cid:x@y">',
      'JVBERi0=',
      '=\r\n',
      'X-Priority: 1',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { maxLength: 60 }), async (pieces) => {
        const result = await outcome(Buffer.from(pieces.join(''), 'utf8'));
        if (result instanceof BridgeError) expect(result.code).toBe('MIME_UNPARSEABLE');
        else expectSanePlan(result);
      }),
      { numRuns: 400 },
    );
  });

  it('fuzz: corpus messages cut, spliced and overwritten at random give a sane plan or MIME_UNPARSEABLE', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const seeds = [
      'smime-x-pkcs7.eml',
      'alt-related.eml',
      'att-rfc822.eml',
      'ricoh-scan-fwd.eml',
      'hdr-at-display-name.eml',
      'mixed-eol-boundaries.eml',
    ].map((f) => corpusFile(f));
    const damage = fc.record({
      seed: fc.nat(seeds.length - 1),
      at: fc.nat(),
      cut: fc.nat(64),
      insert: fc.uint8Array({ maxLength: 32 }),
      truncate: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(damage, async ({ seed, at, cut, insert, truncate }) => {
        const source = seeds[seed] ?? Buffer.alloc(0);
        const offset = at % (source.length + 1);
        const damaged = truncate
          ? source.subarray(0, offset)
          : Buffer.concat([source.subarray(0, offset), insert, source.subarray(offset + cut)]);
        const result = await outcome(damaged);
        if (result instanceof BridgeError) expect(result.code).toBe('MIME_UNPARSEABLE');
        else expectSanePlan(result);
      }),
      { numRuns: 300 },
    );
  });
});
