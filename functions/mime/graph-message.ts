import type { ItemBody, Message, Recipient } from '@microsoft/microsoft-graph-types';
import type { ParsedMail } from 'mailparser';

import { stripControlCharacters, truncateText, type Mailbox } from './address';
import { importanceOf, internetMessageHeaders } from './internet-headers';
import type { ReconciledRecipients } from './recipients';
import type { SenderHeaders } from './sender-display';

/**
 * Subjects are cut at 255 characters. Outlook and EWS stop there (demisto/content#3343 truncates EWS subjects
 * to 255; indico/indico#6702: "outlook limits the length to 255"); Graph documents no limit, but a subject
 * folded over 200 KB (corpus long-header-200k.eml) would take most of Exchange Online's 256 KB header budget
 * and no person reads past the first line anyway. Cutting keeps the message deliverable; refusing it would
 * lose a scan over a cosmetic field.
 */
export const MAX_SUBJECT_LENGTH = 255;

/**
 * The subject as one clean line: control characters (NUL, bare CR, folding leftovers) and runs of whitespace
 * become one space, and the result is cut to MAX_SUBJECT_LENGTH code points, ending in '…' when cut.
 */
export function cleanSubject(subject: unknown): string {
  const text = stripControlCharacters(typeof subject === 'string' ? subject : '')
    .replace(/\s+/gu, ' ')
    .trim();
  return truncateText(text, MAX_SUBJECT_LENGTH);
}

/**
 * The message body: the HTML when the message has any (mailparser joins every HTML part and turns plain text
 * parts outside an alternative into HTML, so nothing is dropped), else the plain text, else empty text.
 * NUL characters are removed: they carry nothing in text and Exchange stores bodies as C strings.
 */
export function messageBody(mail: ParsedMail): ItemBody {
  if (typeof mail.html === 'string' && mail.html.length > 0) {
    return { contentType: 'html', content: mail.html.replaceAll('\u0000', '') };
  }
  return {
    contentType: 'text',
    content: (typeof mail.text === 'string' ? mail.text : '').replaceAll('\u0000', ''),
  };
}

function recipient(mailbox: Mailbox): Recipient {
  return {
    emailAddress:
      mailbox.name === undefined
        ? { address: mailbox.address }
        : { address: mailbox.address, name: mailbox.name },
  };
}

/**
 * The Graph message resource (without attachments, which the mailer adds) for a parsed message. Date is not
 * carried: Exchange stamps it when it sends, which also repairs copier mail that has none. The device's
 * Message-ID is not carried either: plan.ts sets the bridge's own internetMessageId (internet-message-id.ts). The message's own To/Cc/Bcc are replaced by the reconciled envelope lists.
 */
export function graphMessage(
  mail: ParsedMail,
  recipients: ReconciledRecipients,
  sender: SenderHeaders,
): Message {
  const message: Message = {
    subject: cleanSubject(mail.subject),
    body: messageBody(mail),
    from: recipient(sender.from),
  };
  // Empty lists are left out: Graph takes an absent list as empty, and some collections refuse [] (see
  // internet-headers.ts).
  if (recipients.to.length > 0) message.toRecipients = recipients.to.map(recipient);
  if (recipients.cc.length > 0) message.ccRecipients = recipients.cc.map(recipient);
  if (recipients.bcc.length > 0) message.bccRecipients = recipients.bcc.map(recipient);
  if (sender.replyTo.length > 0) message.replyTo = sender.replyTo.map(recipient);
  const importance = importanceOf(mail.headers);
  if (importance !== undefined) message.importance = importance;
  const headers = internetMessageHeaders(mail.headerLines);
  if (headers.length > 0) message.internetMessageHeaders = headers;
  return message;
}
