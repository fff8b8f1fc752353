import type { BridgeError } from '../../core/errors';

/** smtp-server turns an Error with `responseCode` from a hook into the reply; this is the one adapter. */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

/** Longest reply text we send: RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets. */
const MAX_TEXT = 400;

/**
 * The reply for a BridgeError: `<reply> <enhanced> <CODE> <message>[: detail] (id <id>)`, e.g.
 * `550 5.7.1 SENDER_NOT_ALLOWED Sender not allowed (id 0m7…)`, so a copier panel shows the stable code and
 * the user can quote the id. Enhanced codes are written by us (ENHANCEDSTATUSCODES is not advertised, so
 * smtp-server adds none of its own, which would not match our table).
 */
export function smtpReply(err: BridgeError, id?: string): SmtpReplyError {
  let text = err.smtpText(id);
  if (text.length > MAX_TEXT) {
    // Cut the free-text part, never the code or the id a user would quote.
    const tail = id ? ` (id ${id})` : '';
    const head = `${err.smtp.enhanced} ${err.code} `;
    text = `${head}${err.message.slice(0, MAX_TEXT - head.length - tail.length - 1)}…${tail}`;
  }
  // eslint-disable-next-line no-control-regex
  const reply = new Error(text.replace(/[\x00-\x1f\x7f]+/g, ' ')) as SmtpReplyError;
  reply.responseCode = err.smtp.reply;
  return reply;
}

export const acceptedText = (id: string, sent: boolean) =>
  sent ? `2.0.0 Ok: sent as ${id}` : `2.0.0 Ok: queued as ${id}`;
