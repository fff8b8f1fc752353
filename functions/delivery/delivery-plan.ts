import type { Message } from '@microsoft/microsoft-graph-types';

/**
 * What the mapping step (functions/mime/) hands to the Graph mailer (functions/graph/): everything needed to
 * send one message, decided up front, with no Graph calls made yet. The mailer chooses the request shape
 * (one sendMail, or draft + attachments + upload sessions + send) from the sizes.
 */
export interface PlannedAttachment {
  name: string;
  contentType: string;
  /** Content-ID without angle brackets, for inline images referenced as cid: in the HTML body. */
  contentId?: string;
  isInline: boolean;
  content: Buffer;
}

export interface DeliveryPlan {
  /** The mailbox whose `/users/{id}` endpoint sends: the From address when allowed, else the default sender. */
  mailbox: string;
  /**
   * 'json': a Graph message resource built from the parsed MIME (the normal case).
   * 'mime': the original MIME with only its recipient headers reconciled, sent as MIME (S/MIME signed or
   * encrypted messages, whose bytes must not be rebuilt).
   */
  kind: 'json' | 'mime';
  /** JSON kind: the Graph message without attachments (they are in `attachments`). Recipients = envelope. */
  message?: Message;
  /** JSON kind: file and inline attachments, in MIME order. */
  attachments: PlannedAttachment[];
  /** MIME kind: the exact bytes to submit. */
  mime?: Buffer;
  saveToSentItems: boolean;
  /**
   * `<id@domain>` the message is submitted with (JSON `internetMessageId`, MIME `Message-ID`), the same on
   * every attempt: the key of the Sent Items lookup after a lost answer (mime/internet-message-id.ts).
   */
  internetMessageId: string;
  /** True when the From address was not allowed and the default sender sends with Reply-To set. */
  senderRewritten: boolean;
  /** Envelope recipients, normalised (for logs: count only; for pacing and checks). */
  recipients: string[];
}

/**
 * What planning decides before any content is needed (mime/plan.ts checkDelivery): the same refusals and the
 * same sender, recipients and kind as the full plan. The HTTP intake of a message it will queue needs only
 * this; it is never sent from.
 */
export type DeliveryChecks = Pick<
  DeliveryPlan,
  'mailbox' | 'kind' | 'internetMessageId' | 'saveToSentItems' | 'senderRewritten' | 'recipients'
>;

/** What the mailer reports after Graph accepted the message. */
export interface SendReport {
  /** request-id of the final Graph call (sendMail or send). */
  requestId?: string;
  /** Graph's id of the sent message, when known (the draft path knows it; sendMail answers without one). */
  graphMessageId?: string;
  /** 'sendMail' for one request; 'draft' for draft + attachments + send. */
  path: 'sendMail' | 'draft';
  graphCalls: number;
  bytesSent: number;
}
