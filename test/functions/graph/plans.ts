import { createHash, randomBytes } from 'node:crypto';

import type { DeliveryPlan, PlannedAttachment } from '../../../functions/delivery/delivery-plan';

/** DeliveryPlan builders for the Graph tests (what functions/mime/ would hand the mailer). */

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function jsonPlan(over: Partial<DeliveryPlan> & { mailbox: string }): DeliveryPlan {
  return {
    kind: 'json',
    message: {
      subject: 'Scan from copier',
      body: { contentType: 'text', content: 'Scanned document attached.' },
      from: { emailAddress: { address: over.mailbox, name: 'Copier' } },
      toRecipients: [{ emailAddress: { address: 'alice@example.org' } }],
      bccRecipients: [{ emailAddress: { address: 'hidden@example.org' } }],
    },
    attachments: [],
    saveToSentItems: true,
    internetMessageId: `<plan-${randomBytes(6).toString('hex')}.hq@${over.mailbox.split('@')[1] ?? 'example.org'}>`,
    senderRewritten: false,
    recipients: ['alice@example.org', 'hidden@example.org'],
    ...over,
  };
}

/** Bytes that look like a scanned PDF: a header, then incompressible noise, then the trailer. */
export function pdfLike(size: number): Buffer {
  const buf = randomBytes(size);
  buf.write('%PDF-1.7\n', 0, 'latin1');
  buf.write('\n%%EOF\n', size - 7, 'latin1');
  return buf;
}

export function attachment(
  name: string,
  content: Buffer,
  over: Partial<PlannedAttachment> = {},
): PlannedAttachment {
  return { name, contentType: 'application/pdf', isInline: false, content, ...over };
}

export function mimeMessage(from: string, to: string, body = 'hello'): Buffer {
  return Buffer.from(
    [
      `From: ${from}`,
      `To: ${to}`,
      'Subject: signed report',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );
}
