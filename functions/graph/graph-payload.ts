import type { Message } from '@microsoft/microsoft-graph-types';

import type { DeliveryPlan, PlannedAttachment } from '../delivery/delivery-plan';
import { slicedBody, type BodyPart, type SlicedBody } from './sliced-body';

/**
 * The JSON bodies of Graph requests. Those that carry attachment bytes are SlicedBodies: the JSON text is
 * written around the attachments, whose base64 is made slice by slice while sending — never a whole base64
 * string or JSON string. The bytes are exactly what JSON.stringify of the resource would give
 * (test/functions/graph/graph-payload.test.ts holds them to it).
 */

/** The Graph fileAttachment resource for a planned attachment, without its contentBytes. */
function fileAttachmentFields(a: PlannedAttachment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: a.name,
    contentType: a.contentType,
    isInline: a.isInline,
    ...(a.contentId ? { contentId: a.contentId } : {}),
  };
}

/** `{…fields…,"contentBytes":"<base64>"}`: contentBytes is the last member, after the other fields. */
function fileAttachmentParts(a: PlannedAttachment): BodyPart[] {
  const fields = JSON.stringify(fileAttachmentFields(a)); // never empty: @odata.type is always there
  return [`${fields.slice(0, -1)},"contentBytes":"`, { base64Of: a.content }, '"}'];
}

/** The message of a JSON plan without attachments (the draft path adds them one by one). */
export function bareMessage(plan: DeliveryPlan): Message {
  const { attachments: _ignored, ...message } = plan.message ?? {};
  return message;
}

/**
 * The sendMail JSON request: `{"message":{…,"attachments":[…]},"saveToSentItems":…}`, with attachments as the
 * message's last member, as JSON.stringify writes `{ ...bareMessage(plan), attachments }`.
 */
export function sendMailJsonBody(plan: DeliveryPlan): SlicedBody {
  const message = JSON.stringify(bareMessage(plan));
  const tail = `,"saveToSentItems":${JSON.stringify(plan.saveToSentItems)}}`;
  if (plan.attachments.length === 0) return slicedBody([`{"message":${message}${tail}`]);
  const parts: BodyPart[] = [
    `{"message":${message.slice(0, -1)}${message === '{}' ? '' : ','}"attachments":[`,
  ];
  plan.attachments.forEach((a, i) => {
    if (i > 0) parts.push(',');
    parts.push(...fileAttachmentParts(a));
  });
  parts.push(`]}${tail}`);
  return slicedBody(parts);
}

/** The body of POST …/messages/{id}/attachments for a small attachment (draft path). */
export function fileAttachmentBody(a: PlannedAttachment): SlicedBody {
  return slicedBody(fileAttachmentParts(a));
}

/** A MIME message for sendMail: its base64 as the text/plain body. */
export function mimeSendMailBody(mime: Buffer): SlicedBody {
  return slicedBody([{ base64Of: mime }]);
}

/** The body of POST …/attachments/createUploadSession for a large attachment. */
export function uploadSessionRequest(a: PlannedAttachment): string {
  return JSON.stringify({
    AttachmentItem: {
      attachmentType: 'file',
      name: a.name,
      size: a.content.length,
      contentType: a.contentType,
      isInline: a.isInline,
      ...(a.contentId ? { contentId: a.contentId } : {}),
    },
  });
}
