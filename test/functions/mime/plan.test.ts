import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Recipient } from '@microsoft/microsoft-graph-types';

import { addressKey } from '../../../core/envelope';
import { BridgeError } from '../../../core/errors';
import { planDelivery } from '../../../functions/mime/plan';
import { corpusFile } from '../../helpers/mime-corpus';
import { requireTool } from '../../helpers/tool-groups';
import { envelope, eml, SITE_POLICY } from './plan-helpers';

async function rejection(promise: Promise<unknown>): Promise<BridgeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BridgeError);
  return err as BridgeError;
}

describe('planDelivery: who sends', () => {
  const copierMail = (from: string) =>
    eml(`From: ${from}`, 'To: alice@corp.example', 'Subject: Scan', '', 'scan attached');

  it('sends as the From mailbox when it is allowed, with its display name and no Reply-To', async () => {
    const plan = await planDelivery(
      copierMail('"Scanner HQ" <scanner@site.example>'),
      envelope(['alice@corp.example']),
      SITE_POLICY,
    );
    expect(plan.mailbox).toBe('scanner@site.example');
    expect(plan.senderRewritten).toBe(false);
    expect(plan.message?.from).toEqual({
      emailAddress: { address: 'scanner@site.example', name: 'Scanner HQ' },
    });
    expect(plan.message?.replyTo).toBeUndefined();
  });

  it('sends as the default mailbox when From is not allowed, naming the original sender and replying to it', async () => {
    const plan = await planDelivery(
      copierMail('Konica <copier@vendor.example>'),
      envelope(['alice@corp.example']),
      SITE_POLICY,
    );
    expect(plan.mailbox).toBe('relay@site.example');
    expect(plan.senderRewritten).toBe(true);
    expect(plan.message?.from).toEqual({
      emailAddress: { address: 'relay@site.example', name: 'Konica (copier@vendor.example) via bridge' },
    });
    expect(plan.message?.replyTo).toEqual([
      { emailAddress: { address: 'copier@vendor.example', name: 'Konica' } },
    ]);

    const bare = await planDelivery(
      copierMail('copier@vendor.example'),
      envelope(['alice@corp.example']),
      SITE_POLICY,
    );
    expect(bare.message?.from?.emailAddress?.name).toBe('copier@vendor.example via bridge');
  });

  it('keeps the message’s own Reply-To when the default mailbox sends', async () => {
    const mime = eml(
      'From: copier@vendor.example',
      'Reply-To: Helpdesk <help@corp.example>',
      'To: alice@corp.example',
      '',
      'x',
    );
    const plan = await planDelivery(mime, envelope(['alice@corp.example']), SITE_POLICY);
    expect(plan.message?.replyTo).toEqual([
      { emailAddress: { address: 'help@corp.example', name: 'Helpdesk' } },
    ]);
  });

  it('refuses with SENDER_NOT_ALLOWED when From is not allowed and no default mailbox is set', async () => {
    const err = await rejection(
      planDelivery(copierMail('copier@vendor.example'), envelope(['alice@corp.example']), {
        allowedSenders: ['*@site.example'],
      }),
    );
    expect(err.code).toBe('SENDER_NOT_ALLOWED');
  });

  it('falls back to the envelope MAIL FROM when the message has no usable From', async () => {
    for (const from of [undefined, 'Konica Minolta bizhub C258 <>', 'Scan@HQ']) {
      const lines = [
        ...(from === undefined ? [] : [`From: ${from}`]),
        'To: alice@corp.example',
        'Subject: Scan',
        '',
        'x',
      ];
      const plan = await planDelivery(
        eml(...lines),
        envelope(['alice@corp.example'], 'scanner@site.example'),
        SITE_POLICY,
      );
      expect(plan.mailbox, String(from)).toBe('scanner@site.example');
      expect(plan.senderRewritten).toBe(false);
    }
  });

  it('reads an @ inside an unquoted display name as part of the name (corpus hdr-at-display-name.eml)', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const plan = await planDelivery(
      eml('From: Scan@HQ Copier <scanner@site.example>', 'To: alice@corp.example', '', 'x'),
      envelope(['alice@corp.example']),
      SITE_POLICY,
    );
    expect(plan.message?.from?.emailAddress).toEqual({
      address: 'scanner@site.example',
      name: 'Scan@HQ Copier',
    });

    // "From: Mikel Lindsaar <test@lindsaar.net>, jack@lindsar.com" and "To: …, Mikel@Lindsaar <raasdnil@gmail.com>, …"
    const corpusPlan = await planDelivery(
      corpusFile('hdr-at-display-name.eml'),
      envelope(['raasdnil@gmail.com', 'tom@gmail.com']),
      SITE_POLICY,
    );
    expect(corpusPlan.message?.toRecipients).toEqual([
      { emailAddress: { address: 'raasdnil@gmail.com', name: 'Mikel@Lindsaar' } },
      { emailAddress: { address: 'tom@gmail.com' } },
    ]);
    expect(corpusPlan.message?.replyTo).toEqual([
      { emailAddress: { address: 'test@lindsaar.net', name: 'Mikel Lindsaar' } },
    ]);
  });

  it('repairs raw 8-bit Windows-1252 in Subject and From display name', async () => {
    const mime = Buffer.concat([
      Buffer.from(
        'From: B\xfcro Scanner <scanner@site.example>\r\nTo: a@corp.example\r\nSubject: Scan B\xfcro \x80 5\r\n\r\nx',
        'latin1',
      ),
    ]);
    const plan = await planDelivery(mime, envelope(['a@corp.example']), SITE_POLICY);
    expect(plan.message?.subject).toBe('Scan Büro € 5');
    expect(plan.message?.from?.emailAddress?.name).toBe('Büro Scanner');
  });
});

describe('planDelivery: to whom', () => {
  it('delivers to the envelope exactly: header To/Cc kept with names, envelope-only as Bcc, header-only dropped', async () => {
    const mime = eml(
      'From: scanner@site.example',
      'To: Alice <alice@corp.example>, Mallory <mallory@corp.example>',
      'Cc: "Bob B." <bob@corp.example>',
      'Bcc: secret@corp.example',
      '',
      'x',
    );
    const plan = await planDelivery(
      mime,
      envelope(['bob@corp.example', 'ALICE@corp.example', 'archive@corp.example']),
      SITE_POLICY,
    );
    expect(plan.message?.toRecipients).toEqual([
      { emailAddress: { address: 'ALICE@corp.example', name: 'Alice' } },
    ]);
    expect(plan.message?.ccRecipients).toEqual([
      { emailAddress: { address: 'bob@corp.example', name: 'Bob B.' } },
    ]);
    expect(plan.message?.bccRecipients).toEqual([{ emailAddress: { address: 'archive@corp.example' } }]);
    expect(plan.recipients).toEqual(['bob@corp.example', 'ALICE@corp.example', 'archive@corp.example']);
  });

  it('sends copier mail without To, Date or Message-ID, or with To: undisclosed-recipients:;, to Bcc', async () => {
    for (const to of [[], ['To: undisclosed-recipients:;']]) {
      const plan = await planDelivery(
        eml('From: scanner@site.example', ...to, 'Subject: Scan', '', 'x'),
        envelope(['a@corp.example', 'b@corp.example']),
        SITE_POLICY,
      );
      expect(plan.message?.toRecipients).toBeUndefined();
      expect(plan.message?.bccRecipients).toEqual([
        { emailAddress: { address: 'a@corp.example' } },
        { emailAddress: { address: 'b@corp.example' } },
      ]);
    }
  });

  it('refuses bad envelopes with their own codes', async () => {
    const mime = eml('From: scanner@site.example', '', 'x');
    expect((await rejection(planDelivery(mime, envelope([]), SITE_POLICY))).code).toBe('NO_RECIPIENTS');
    expect((await rejection(planDelivery(mime, envelope(['not-an-address']), SITE_POLICY))).code).toBe(
      'RECIPIENT_INVALID',
    );
    const many = Array.from({ length: 501 }, (_, i) => `u${i}@corp.example`);
    expect((await rejection(planDelivery(mime, envelope(many), SITE_POLICY))).code).toBe(
      'TOO_MANY_RECIPIENTS',
    );
  });

  it('property: whatever the headers say, the Graph recipients are the envelope set once each', async () => {
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const address = fc.constantFrom(
      ...users.flatMap((u) => [`${u}@corp.example`, `${u[0]?.toUpperCase()}${u.slice(1)}@CORP.example`]),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(address, { minLength: 1, maxLength: 6 }),
        fc.array(address, { maxLength: 4 }),
        fc.array(address, { maxLength: 4 }),
        async (rcpt, to, cc) => {
          const lines = [
            'From: scanner@site.example',
            ...(to.length ? [`To: ${to.join(', ')}`] : []),
            ...(cc.length ? [`Cc: ${cc.join(', ')}`] : []),
            '',
            'x',
          ];
          const message = (await planDelivery(eml(...lines), envelope(rcpt), SITE_POLICY)).message;
          const keysOf = (list: Recipient[] | null | undefined) =>
            (list ?? []).map((r) => addressKey(r.emailAddress?.address ?? ''));
          const placed = [
            ...keysOf(message?.toRecipients),
            ...keysOf(message?.ccRecipients),
            ...keysOf(message?.bccRecipients),
          ];
          expect(new Set(placed)).toEqual(new Set(rcpt.map(addressKey)));
          expect(placed).toHaveLength(new Set(placed).size);
          expect(keysOf(message?.toRecipients).every((k) => to.map(addressKey).includes(k))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('planDelivery: options and form', () => {
  it('passes saveToSentItems through, defaulting to true', async () => {
    const mime = eml('From: scanner@site.example', '', 'x');
    expect((await planDelivery(mime, envelope(['a@corp.example']), SITE_POLICY)).saveToSentItems).toBe(true);
    expect(
      (await planDelivery(mime, envelope(['a@corp.example']), SITE_POLICY, { saveToSentItems: false }))
        .saveToSentItems,
    ).toBe(false);
  });

  it('strips a leading mbox "From " line before parsing', async () => {
    const plan = await planDelivery(
      eml(
        'From scanner@site.example Thu Feb 22 11:20:31 2007',
        'From: scanner@site.example',
        'Subject: After mbox',
        '',
        'x',
      ),
      envelope(['a@corp.example']),
      SITE_POLICY,
    );
    expect(plan.message?.subject).toBe('After mbox');
    expect(plan.mailbox).toBe('scanner@site.example');
  });
});
