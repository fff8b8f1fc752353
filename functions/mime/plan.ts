import type { Envelope } from '../../core/envelope';
import { toBridgeError } from '../../core/errors';
import type { DeliveryPlan } from '../delivery/delivery-plan';
import { mailboxesOf } from './address';
import { planAttachments } from './attachments';
import { graphMessage } from './graph-message';
import { bridgeInternetMessageId } from './internet-message-id';
import { mustSendAsMime, reconcileMimeHeaders } from './opaque-mime';
import { contentTypeOf, parseMime } from './parse';
import type { MimeBytes } from './raw-mime';
import { reconcileRecipients } from './recipients';
import { senderHeaders } from './sender-display';
import { checkDeviceBinding, chooseSender, type SenderPolicy } from './sender-policy';

export interface PlanOptions {
  /** Keep a copy in the sending mailbox's Sent Items (BRIDGE_SAVE_TO_SENT_ITEMS). Default true, as Graph's. */
  saveToSentItems?: boolean;
}

/**
 * Turns one received message into everything the Graph mailer needs, deciding up front who sends, to whom,
 * and in which form — without calling Graph. `mime` is the raw message as one Buffer or as the chunks it was
 * read in (raw-mime.ts); the plan is the same either way, and chunks are never joined into a copy.
 *
 * Throws only BridgeError: MIME_UNPARSEABLE (not a message), SENDER_NOT_ALLOWED, NO_RECIPIENTS,
 * TOO_MANY_RECIPIENTS, RECIPIENT_INVALID; anything unexpected becomes INTERNAL (retryable: a bug of ours must
 * not bounce mail).
 */
export async function planDelivery(
  mime: MimeBytes,
  envelope: Envelope,
  policy: SenderPolicy,
  opts: PlanOptions = {},
): Promise<DeliveryPlan> {
  try {
    return await plan(mime, envelope, policy, opts.saveToSentItems ?? true);
  } catch (err) {
    throw toBridgeError(err);
  }
}

async function plan(
  mime: MimeBytes,
  envelope: Envelope,
  policy: SenderPolicy,
  saveToSentItems: boolean,
): Promise<DeliveryPlan> {
  const { source, mail } = await parseMime(mime);
  const headerFrom = mailboxesOf(mail.from);
  checkDeviceBinding(
    headerFrom.map((m) => m.address),
    envelope.mailFrom,
    envelope.senderBinding,
  );
  const sender = chooseSender(headerFrom[0]?.address, envelope.mailFrom, policy);
  const recipients = reconcileRecipients(envelope.rcptTo, {
    to: mailboxesOf(mail.to),
    cc: mailboxesOf(mail.cc),
  });
  const visibleSender = senderHeaders(sender, headerFrom, mailboxesOf(mail.replyTo));
  const internetMessageId = bridgeInternetMessageId(envelope, sender.mailbox);
  const common = {
    mailbox: sender.mailbox,
    internetMessageId,
    saveToSentItems,
    senderRewritten: sender.senderRewritten,
    recipients: recipients.all,
  };

  if (mustSendAsMime(contentTypeOf(mail))) {
    const receivedAt = new Date(envelope.receivedAt);
    const bytes = reconcileMimeHeaders(
      source.head,
      recipients,
      visibleSender,
      headerFrom,
      Number.isNaN(receivedAt.getTime()) ? new Date() : receivedAt,
      source.tail,
      internetMessageId,
    );
    return { ...common, kind: 'mime', mime: bytes, attachments: [] };
  }
  const html = typeof mail.html === 'string' ? mail.html : undefined;
  return {
    ...common,
    kind: 'json',
    message: { ...graphMessage(mail, recipients, visibleSender), internetMessageId },
    attachments: planAttachments(mail.attachments, html),
  };
}
