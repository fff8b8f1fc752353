import { describe, expect, it } from 'vitest';

import type { DeliveryPlan, PlannedAttachment } from '../../../functions/delivery/delivery-plan';
import {
  fileAttachmentBody,
  mimeSendMailBody,
  sendMailJsonBody,
} from '../../../functions/graph/graph-payload';
import { SLICE_BYTES, type SlicedBody } from '../../../functions/graph/sliced-body';
import { attachment, jsonPlan, mimeMessage, pdfLike } from './plans';

/** The request bodies as they were built before slicing: whole strings through JSON.stringify. */
function resource(a: PlannedAttachment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: a.name,
    contentType: a.contentType,
    isInline: a.isInline,
    ...(a.contentId ? { contentId: a.contentId } : {}),
    contentBytes: a.content.toString('base64'),
  };
}
function stringifiedSendMail(plan: DeliveryPlan): string {
  const { attachments: _a, ...message } = plan.message ?? {};
  const withAttachments: Record<string, unknown> = { ...message };
  if (plan.attachments.length > 0) withAttachments.attachments = plan.attachments.map(resource);
  return JSON.stringify({ message: withAttachments, saveToSentItems: plan.saveToSentItems });
}

function bytesOf(body: SlicedBody): Buffer {
  const slices = [...body.slices()];
  for (const s of slices) expect(s.length).toBeLessThanOrEqual(SLICE_BYTES);
  return Buffer.concat(slices);
}

const MAILBOX = 'scanner@contoso.example';

describe('sendMail JSON body', () => {
  it.each([
    ['no attachments', jsonPlan({ mailbox: MAILBOX })],
    ['an empty message', { ...jsonPlan({ mailbox: MAILBOX }), message: {}, saveToSentItems: false }],
    [
      'an empty message with an attachment',
      {
        ...jsonPlan({ mailbox: MAILBOX, attachments: [attachment('a.pdf', pdfLike(300_000))] }),
        message: {},
      },
    ],
    [
      'attachments of every size around a slice boundary, inline ones and non-ASCII names',
      jsonPlan({
        mailbox: MAILBOX,
        message: {
          subject: 'Scan ✓ "quoted" \\ \u2028 émoji 📄',
          body: { contentType: 'html', content: '<p>ünïcode</p>\n<img src="cid:logo@x">' },
          toRecipients: [{ emailAddress: { address: 'alice@example.org', name: 'Ålice "A"' } }],
        },
        attachments: [
          attachment('empty.txt', Buffer.alloc(0), { contentType: 'text/plain' }),
          attachment('one.bin', Buffer.from([0xff])),
          attachment('logo 😀.png', pdfLike(196_608), { isInline: true, contentId: 'logo@x' }),
          attachment('scan.pdf', pdfLike(196_609)),
          attachment('big.pdf', pdfLike(1_000_001)),
        ],
      }),
    ],
  ])('is byte for byte what JSON.stringify makes, for %s', (_what, plan) => {
    const body = sendMailJsonBody(plan);
    const expected = Buffer.from(stringifiedSendMail(plan));
    expect(body.byteLength).toBe(expected.length);
    expect(bytesOf(body).equals(expected)).toBe(true);
    // A body can be sent again (a retried request) and gives the same bytes.
    expect(bytesOf(body).equals(expected)).toBe(true);
  });

  it('makes the attachment base64 slice by slice, never as one string', () => {
    const scan = pdfLike(2_200_000);
    const body = sendMailJsonBody(
      jsonPlan({ mailbox: MAILBOX, attachments: [attachment('scan.pdf', scan)] }),
    );
    const slices = [...body.slices()];
    expect(slices.length).toBeGreaterThan(Math.ceil((scan.length * 4) / 3 / SLICE_BYTES));
    expect(Math.max(...slices.map((s) => s.length))).toBe(SLICE_BYTES);
  });
});

describe('other sliced bodies', () => {
  it('a small attachment POSTed to a draft is the fileAttachment resource as JSON', () => {
    const a = attachment('Résumé.pdf', pdfLike(700_000), { contentId: 'r@x' });
    expect(bytesOf(fileAttachmentBody(a)).equals(Buffer.from(JSON.stringify(resource(a))))).toBe(true);
  });

  it('a MIME message is its base64 as text', () => {
    const mime = Buffer.concat([mimeMessage(MAILBOX, 'bob@example.org'), pdfLike(400_001)]);
    const body = mimeSendMailBody(mime);
    expect(body.byteLength).toBe(mime.toString('base64').length);
    expect(bytesOf(body).toString('latin1')).toBe(mime.toString('base64'));
  });
});
