import type { ParsedMail } from 'mailparser';

import type { Envelope } from '../../core/envelope';
import { bridgeError, toBridgeError } from '../../core/errors';
import type { DeliveryChecks, DeliveryPlan } from '../delivery/delivery-plan';
import { mailboxesOf, type Mailbox } from './address';
import { planAttachments } from './attachments';
import { graphMessage } from './graph-message';
import { bridgeInternetMessageId } from './internet-message-id';
import { mustSendAsMime, reconcileMimeHeaders } from './opaque-mime';
import { contentTypeOf, parseMime } from './parse';
import type { MimeBytes, MimeSource } from './raw-mime';
import { reconcileRecipients, type ReconciledRecipients } from './recipients';
import { senderHeaders, type SenderHeaders } from './sender-display';
import { checkDeviceBinding, chooseSender, type SenderPolicy } from './sender-policy';

export interface PlanOptions {
  /** Keep a copy in the sending mailbox's Sent Items (BRIDGE_SAVE_TO_SENT_ITEMS). Default true, as Graph's. */
  saveToSentItems?: boolean;
}

/**
 * Turns one received message into everything the Graph mailer needs, deciding up front who sends, to whom,
 * and in which form — without calling Graph. `mime` is the raw message as one Buffer, as the chunks it was
 * read in, or as a stream read once (raw-mime.ts); the plan is the same every way, chunks are never joined
 * into a copy, and a stream is planned while it arrives (the message is never held whole, only its decoded
 * attachments are). An error of the stream is thrown as it is.
 *
 * Throws only BridgeError: MIME_UNPARSEABLE (not a message), SENDER_NOT_ALLOWED, NO_RECIPIENTS,
 * TOO_MANY_RECIPIENTS, RECIPIENT_INVALID; anything unexpected becomes INTERNAL (retryable: a bug of ours must
 * not bounce mail).
 */
export async function planDelivery(
  mime: MimeSource,
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

/**
 * Everything planDelivery checks and decides — the same refusals, the same sender, recipients and kind —
 * without keeping the attachments' content or building the S/MIME bytes: for the HTTP intake of a message
 * it will store and queue rather than send (the queue trigger plans it again from the stored copy), so the
 * intake holds the message once, not the message and its decoded files.
 */
export async function checkDelivery(
  mime: MimeBytes,
  envelope: Envelope,
  policy: SenderPolicy,
  opts: PlanOptions = {},
): Promise<DeliveryChecks> {
  try {
    const { mail } = await parseMime(mime, { keepContent: false });
    return decide(mail, envelope, policy, opts.saveToSentItems ?? true).checks;
  } catch (err) {
    throw toBridgeError(err);
  }
}

interface Decisions {
  checks: DeliveryChecks;
  recipients: ReconciledRecipients;
  visibleSender: SenderHeaders;
  headerFrom: Mailbox[];
}

/** Who sends, to whom, in which form: the part of the plan that needs no content. */
function decide(
  mail: ParsedMail,
  envelope: Envelope,
  policy: SenderPolicy,
  saveToSentItems: boolean,
): Decisions {
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
  return {
    checks: {
      mailbox: sender.mailbox,
      kind: mustSendAsMime(contentTypeOf(mail)) ? 'mime' : 'json',
      internetMessageId: bridgeInternetMessageId(envelope, sender.mailbox),
      saveToSentItems,
      senderRewritten: sender.senderRewritten,
      recipients: recipients.all,
    },
    recipients,
    visibleSender,
    headerFrom,
  };
}

async function plan(
  mime: MimeSource,
  envelope: Envelope,
  policy: SenderPolicy,
  saveToSentItems: boolean,
): Promise<DeliveryPlan> {
  const { source, mail } = await parseMime(mime);
  const { checks, recipients, visibleSender, headerFrom } = decide(mail, envelope, policy, saveToSentItems);

  if (checks.kind === 'mime') {
    if (!source) throw bridgeError('INTERNAL', { detail: 'S/MIME message parsed without its source' });
    const receivedAt = new Date(envelope.receivedAt);
    const bytes = reconcileMimeHeaders(
      source.head,
      recipients,
      visibleSender,
      headerFrom,
      Number.isNaN(receivedAt.getTime()) ? new Date() : receivedAt,
      source.tail,
      checks.internetMessageId,
    );
    return { ...checks, kind: 'mime', mime: bytes, attachments: [] };
  }
  const html = typeof mail.html === 'string' ? mail.html : undefined;
  return {
    ...checks,
    kind: 'json',
    message: {
      ...graphMessage(mail, recipients, visibleSender),
      internetMessageId: checks.internetMessageId,
    },
    attachments: planAttachments(mail.attachments, html),
  };
}
