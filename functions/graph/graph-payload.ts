import type { Message } from '@microsoft/microsoft-graph-types';

import type { DeliveryPlan, PlannedAttachment } from '../delivery-plan';
import { base64Length } from './graph-limits';

/** The Graph fileAttachment resource for a planned attachment. */
export function fileAttachmentResource(a: PlannedAttachment, contentBytes: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: a.name,
    contentType: a.contentType,
    isInline: a.isInline,
    ...(a.contentId ? { contentId: a.contentId } : {}),
    contentBytes,
  };
}

/** The message of a JSON plan without attachments (the draft path adds them one by one). */
export function bareMessage(plan: DeliveryPlan): Message {
  const { attachments: _ignored, ...message } = plan.message ?? {};
  return message;
}

function sendMailShape(plan: DeliveryPlan, contents: (a: PlannedAttachment) => string): string {
  const message: Record<string, unknown> = { ...bareMessage(plan) };
  if (plan.attachments.length > 0)
    message.attachments = plan.attachments.map((a) => fileAttachmentResource(a, contents(a)));
  return JSON.stringify({ message, saveToSentItems: plan.saveToSentItems });
}

/**
 * The exact byte size of the sendMail JSON request, without building it: the shape with empty contentBytes,
 * plus the base64 length of every attachment (base64 is ASCII, so JSON adds no escaping to it).
 */
export function sendMailJsonBytes(plan: DeliveryPlan): number {
  const shape = Buffer.byteLength(sendMailShape(plan, () => ''));
  return plan.attachments.reduce((sum, a) => sum + base64Length(a.content.length), shape);
}

/** The sendMail JSON request body (only built for requests under the size budget). */
export function sendMailJson(plan: DeliveryPlan): string {
  return sendMailShape(plan, (a) => a.content.toString('base64'));
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
