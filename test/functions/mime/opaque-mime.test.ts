import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { simpleParser, type AddressObject } from 'mailparser';
import { describe, expect, it } from 'vitest';

import { planDelivery } from '../../../functions/mime/plan';
import { encodePhrase, formatAddressField } from '../../../functions/mime/header-format';
import { corpusFile } from '../../helpers/mime-corpus';
import { requireTool } from '../../helpers/tool-groups';
import { envelope, eml, SITE_POLICY } from './plan-helpers';
import { REPO_ROOT } from './python-reference';

const fixture = readFileSync(resolve(REPO_ROOT, 'test/fixtures/mime/smime-enveloped.eml'));
const split = (mime: Buffer) => {
  const text = mime.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return { head: text.slice(0, end), body: mime.subarray(Buffer.byteLength(text.slice(0, end), 'latin1')) };
};
const listOf = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((o) => o.value.map((v) => v.address));

describe('planDelivery: signed or encrypted messages go as MIME', () => {
  it('sends S/MIME enveloped-data as its own bytes with only To/Cc/Bcc and Message-ID reconciled (and Date added, it had none)', async () => {
    const plan = await planDelivery(
      fixture,
      envelope(['alice@contoso.example', 'archive@corp.example']),
      SITE_POLICY,
    );
    expect(plan).toMatchObject({
      kind: 'mime',
      mailbox: 'scanner@site.example',
      senderRewritten: false,
      attachments: [],
    });
    expect(plan.message).toBeUndefined();
    const sent = split(plan.mime ?? Buffer.alloc(0));
    expect(sent.head).toBe(
      [
        // The bridge's own id, the key of the Sent Items look-up after a lost answer (docs/design/custody.md).
        'Message-ID: <msg-test-0001.hq@site.example>',
        'Date: Thu, 15 Jan 2026 10:00:00 +0000',
        'To: "Alice" <alice@contoso.example>',
        'Bcc: archive@corp.example',
        'From: Scanner HQ <scanner@site.example>',
        'Subject: Encrypted scan',
        'MIME-Version: 1.0',
        'Content-Disposition: attachment; filename="smime.p7m"',
        'Content-Type: application/x-pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        'Content-Transfer-Encoding: base64',
      ].join('\n'),
    );
    expect(sent.body.equals(split(fixture).body)).toBe(true);
  });

  it('sends multipart/signed from the default mailbox with From replaced and Reply-To added, signed bytes unchanged', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const original = corpusFile('smime-x-pkcs7.eml'); // From: sender@example.dom, To: recipient@example.dom, LF
    const plan = await planDelivery(
      original,
      envelope(['recipient@example.dom', 'extra@corp.example']),
      SITE_POLICY,
    );
    expect(plan).toMatchObject({ kind: 'mime', mailbox: 'relay@site.example', senderRewritten: true });
    const parsed = await simpleParser(plan.mime ?? Buffer.alloc(0));
    expect(parsed.from?.value).toEqual([
      { address: 'relay@site.example', name: 'sender@example.dom via bridge' },
    ]);
    expect(listOf(parsed.replyTo)).toEqual(['sender@example.dom']);
    expect(listOf(parsed.to)).toEqual(['recipient@example.dom']);
    expect(listOf(parsed.bcc)).toEqual(['extra@corp.example']);
    expect(split(plan.mime ?? Buffer.alloc(0)).body.equals(split(original).body)).toBe(true);
    expect(parsed.messageId).toBe('<msg-test-0001.hq@site.example>');
    expect(parsed.headers.get('message-id')).toBe('<msg-test-0001.hq@site.example>');
  });

  it('drops a header-only recipient and the original Bcc, strips the mbox line and keeps CRLF (corpus smime-signed-png.eml)', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const plan = await planDelivery(
      corpusFile('smime-signed-png.eml'),
      envelope(['other@corp.example']),
      SITE_POLICY,
    );
    const head = split(plan.mime ?? Buffer.alloc(0)).head;
    expect(head.startsWith('MIME-Version: 1.0')).toBe(true);
    expect(head).not.toMatch(/^To:/m);
    expect(head).toContain('\r\nBcc: other@corp.example\r\n');
    expect(head.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('treats PGP/MIME multipart/encrypted and application/pkcs7-mime signed-data like S/MIME', async () => {
    const pgp = [
      '--b',
      'Content-Type: application/pgp-encrypted',
      '',
      'Version: 1',
      '--b',
      'Content-Type: application/octet-stream',
      '',
      '-----BEGIN PGP MESSAGE-----',
      '--b--',
    ];
    const cases: Array<[string, string[]]> = [
      ['multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b', pgp],
      [
        'application/pkcs7-mime; smime-type=signed-data; name=smime.p7m',
        ['MIIGuQYJKoZIhvcNAQcCoIIGqjCCBqYCAQEx'],
      ],
    ];
    for (const [type, body] of cases) {
      const plan = await planDelivery(
        eml('From: scanner@site.example', `Content-Type: ${type}`, '', ...body, ''),
        envelope(['a@corp.example']),
        SITE_POLICY,
      );
      expect(plan.kind, type).toBe('mime');
    }
  });
});

describe('header fields written into MIME', () => {
  it('quote ASCII names, encode others as RFC 2047 words mailparser reads back, and fold one address per line', async () => {
    expect(encodePhrase('Bob "B" \\ Smith', '\r\n')).toBe('"Bob \\"B\\" \\\\ Smith"');
    const names = ['Jörg Müller', '山田太郎'.repeat(12), 'Plain Name', '😀 emoji'];
    const mailboxes = Array.from({ length: 500 }, (_, i) => ({
      address: `user${i}@corp.example`,
      name: names[i % names.length] ?? '',
    }));
    const field = formatAddressField('Bcc', mailboxes, '\r\n');
    for (const line of field.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    expect(Math.max(...field.split('\r\n').map((l) => l.length))).toBeLessThan(120);
    const parsed = await simpleParser(Buffer.from(`${field}Subject: x\r\n\r\nbody`));
    expect(parsed.bcc && !Array.isArray(parsed.bcc) ? parsed.bcc.value : []).toEqual(
      mailboxes.map((m) => ({ address: m.address, name: m.name })),
    );
  });
});
