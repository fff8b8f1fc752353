import { createHash } from 'node:crypto';

import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';

import { MAX_INTERNET_MESSAGE_HEADERS } from '../../../functions/mime/internet-headers';
import { planDelivery } from '../../../functions/mime/plan';
import { corpusFile } from '../../helpers/mime-corpus';
import { requireTool } from '../../helpers/tool-groups';
import { envelope, eml, SITE_POLICY } from './plan-helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const compose = (options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> =>
  new MailComposer(options).compile().build();
const rcpt = envelope(['alice@corp.example']);

describe('planDelivery: the Graph message', () => {
  // 1x1 PNG; a PDF-looking blob with every byte value, so nothing may be re-encoded.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  const pdf = Buffer.concat([
    Buffer.from('%PDF-1.4\n'),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  ]);

  it('sends the HTML body with cid: references kept and the referenced image inline with its Content-ID', async () => {
    const mime = await compose({
      from: 'scanner@site.example',
      to: 'alice@corp.example',
      subject: 'Scan ✓',
      text: 'plain alternative',
      html: '<p>Logo: <img src="cid:logo@site"></p>',
      attachments: [
        { filename: 'logo.png', content: png, cid: 'logo@site' },
        { filename: 'unreferenced.png', content: png, cid: 'spare@site' },
        { filename: 'scan 2026-01-15.pdf', content: pdf, contentType: 'application/pdf' },
      ],
    });
    const plan = await planDelivery(mime, rcpt, SITE_POLICY);
    expect(plan.kind).toBe('json');
    expect(plan.message?.subject).toBe('Scan ✓');
    expect(plan.message?.body).toEqual({
      contentType: 'html',
      content: expect.stringContaining('src="cid:logo@site"'),
    });
    expect(
      plan.attachments.map((a) => ({
        name: a.name,
        type: a.contentType,
        id: a.contentId,
        inline: a.isInline,
        sha: sha(a.content),
      })),
    ).toEqual([
      { name: 'logo.png', type: 'image/png', id: 'logo@site', inline: true, sha: sha(png) },
      // In multipart/related but not shown by the HTML: a visible attachment, or Outlook would hide it.
      { name: 'unreferenced.png', type: 'image/png', id: 'spare@site', inline: false, sha: sha(png) },
      { name: 'scan 2026-01-15.pdf', type: 'application/pdf', id: undefined, inline: false, sha: sha(pdf) },
    ]);
    expect(plan.message).not.toHaveProperty('attachments');
  });

  it('sends the text body when there is no HTML, and an empty text body when there is no text either', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const text = await planDelivery(
      eml('From: scanner@site.example', 'Subject: t', '', 'line one', 'line two'),
      rcpt,
      SITE_POLICY,
    );
    expect(text.message?.body).toEqual({ contentType: 'text', content: 'line one\nline two' });
    const scanOnly = await planDelivery(corpusFile('image-only.eml'), rcpt, SITE_POLICY);
    expect(scanOnly.message?.body).toEqual({ contentType: 'text', content: '' });
    expect(scanOnly.attachments.map((a) => a.name)).toEqual(['bluedot.jpg']);
  });

  it('names nameless parts from type and position, and sends message/rfc822 as an .eml file', async () => {
    const inner = 'From: a@x.example\r\nSubject: inner\r\n\r\nforwarded body\r\n';
    const mime = eml(
      'From: scanner@site.example',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'see attachments',
      '--b',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      '',
      pdf.toString('base64'),
      '--b',
      'Content-Type: image/tiff',
      'Content-Disposition: attachment',
      'Content-Transfer-Encoding: base64',
      '',
      png.toString('base64'),
      '--b',
      'Content-Type: message/rfc822',
      '',
      inner,
      '--b',
      'Content-Type: message/rfc822; name="Fwd: report"',
      '',
      inner,
      '--b--',
      '',
    );
    const plan = await planDelivery(mime, rcpt, SITE_POLICY);
    expect(plan.attachments.map((a) => [a.name, a.contentType])).toEqual([
      ['attachment-1.pdf', 'application/pdf'],
      ['image-2.tif', 'image/tiff'],
      ['message-3.eml', 'message/rfc822'],
      ['Fwd_ report.eml', 'message/rfc822'],
    ]);
    expect(plan.attachments[2]?.content.toString()).toBe(inner); // byte for byte, own headers included
  });

  it('makes attachment names safe: last path segment, no control or Windows-reserved characters, 255 at most', async () => {
    const long = `${'x'.repeat(300)}.pdf`;
    const names = [
      '..\\..\\windows\\evil.pdf',
      '1234/../../1234.txt',
      'line\nbreak.pdf',
      'a:b*c?.pdf',
      long,
      '..',
    ];
    const parts = names.flatMap((n) => [
      '--b',
      `Content-Type: application/pdf; name="${n.replace(/\n/g, '=0A')}"`,
      `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(n)}`,
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERg==',
    ]);
    const plan = await planDelivery(
      eml(
        'From: scanner@site.example',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        ...parts,
        '--b--',
        '',
      ),
      rcpt,
      SITE_POLICY,
    );
    expect(plan.attachments.map((a) => a.name)).toEqual([
      'evil.pdf',
      '1234.txt',
      'line break.pdf',
      'a_b_c_.pdf',
      `${'x'.repeat(250)}….pdf`,
      'attachment-6.pdf',
    ]);
    expect(plan.attachments[4]?.name).toHaveLength(255);
  });

  it('maps Importance, Priority and X-Priority to Graph importance, and leaves it out when unstated', async () => {
    const cases: Array<[string | undefined, string | undefined]> = [
      ['X-Priority: 1 (Highest)', 'high'],
      ['Importance: low', 'low'],
      ['X-MSMail-Priority: Normal', 'normal'],
      [undefined, undefined],
    ];
    for (const [header, importance] of cases) {
      const plan = await planDelivery(
        eml('From: scanner@site.example', ...(header ? [header] : []), '', 'x'),
        rcpt,
        SITE_POLICY,
      );
      expect(plan.message?.importance, header).toBe(importance);
    }
  });

  it(`copies the first ${MAX_INTERNET_MESSAGE_HEADERS} device X- headers, skipping priority and trace headers, and none when there are none`, async () => {
    const mime = eml(
      'From: scanner@site.example',
      'X-Priority: 1',
      'X-Spam-Score: 5',
      'X-MS-Exchange-Organization-SCL: -1',
      'X-Mailer: RICOH MP C2011',
      'X-Job-Id:',
      '  4711',
      'x-mailer: duplicate',
      'X-Scan-Pages: 3',
      'X-Device-Location: Floor 2',
      'X-Operator: =?utf-8?q?J=C3=B6rg?=',
      'X-Sixth: dropped',
      'Received: from x',
      '',
      'x',
    );
    const plan = await planDelivery(mime, rcpt, SITE_POLICY);
    expect(plan.message?.internetMessageHeaders).toEqual([
      { name: 'X-Mailer', value: 'RICOH MP C2011' },
      { name: 'X-Job-Id', value: '4711' },
      { name: 'X-Scan-Pages', value: '3' },
      { name: 'X-Device-Location', value: 'Floor 2' },
      { name: 'X-Operator', value: '=?utf-8?q?J=C3=B6rg?=' },
    ]);
    const none = await planDelivery(
      eml('From: scanner@site.example', 'X-Priority: 3', '', 'x'),
      rcpt,
      SITE_POLICY,
    );
    expect(none.message).not.toHaveProperty('internetMessageHeaders');
  });

  it('cuts the 200 KB folded subject of corpus long-header-200k.eml to 255 characters', async (ctx) => {
    requireTool(ctx, 'mime-corpus');
    const plan = await planDelivery(corpusFile('long-header-200k.eml'), rcpt, SITE_POLICY);
    const subject = plan.message?.subject ?? '';
    expect(Array.from(subject)).toHaveLength(255);
    expect(
      subject.startsWith('Die heiße Zypernsonne quälte Max und Victoria ja böse auf dem Weg bis zur Küste'),
    ).toBe(true);
    expect(subject.endsWith('…')).toBe(true);
  });

  it('keeps a subject of exactly 255 characters whole and never splits a surrogate pair when cutting', async () => {
    const exact = 'a'.repeat(255);
    expect(
      (await planDelivery(eml('From: scanner@site.example', `Subject: ${exact}`, '', 'x'), rcpt, SITE_POLICY))
        .message?.subject,
    ).toBe(exact);
    const emoji = '😀'.repeat(300);
    const cut =
      (
        await planDelivery(
          eml(
            'From: scanner@site.example',
            `Subject: =?utf-8?b?${Buffer.from(emoji).toString('base64')}?=`,
            '',
            'x',
          ),
          rcpt,
          SITE_POLICY,
        )
      ).message?.subject ?? '';
    expect(cut).toBe(`${'😀'.repeat(254)}…`);
  });
});
