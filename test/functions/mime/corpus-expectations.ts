import { createHash } from 'node:crypto';

import type { PyMailbox } from './python-reference';

/**
 * What the plan should carry, derived from the reference reading (CPython) by the rules the bridge documents.
 * Written independently of functions/mime/ (simpler, test-side versions of the rules), so a change in either
 * side shows up as a difference.
 */

export const ENVELOPE_ONLY = 'envelope-only@bridge-test.example';
export const DEVICE_MAIL_FROM = 'device@site.example';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The stdlib represents raw 8-bit header bytes as lone surrogates U+DC80–U+DCFF (surrogateescape). An SMTP
 * envelope would carry those bytes as UTF-8 (SMTPUTF8), so they are turned back into bytes and read as UTF-8.
 */
export function fromSurrogateEscape(text: string): string {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xdc80 && code <= 0xdcff) bytes.push(code - 0xdc00);
    else bytes.push(...Buffer.from(char, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A plausible deliverable address: local@domain.tld without spaces or specials (test-side, deliberately simple). */
export function looksDeliverable(address: string): boolean {
  return /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\].]+(\.[^\s@<>()",;:\\[\].]+)+$/u.test(address);
}

export const key = (address: string): string => fromSurrogateEscape(address).toLowerCase();

/** The synthetic RCPT TO list: up to three To and two Cc addresses the header names, plus one envelope-only. */
export function syntheticEnvelope(to: readonly PyMailbox[], cc: readonly PyMailbox[]): string[] {
  const header = [...to.slice(0, 3), ...cc.slice(0, 2)].map((m) => key(m.address)).filter(looksDeliverable);
  return [...new Set([...header, ENVELOPE_ONLY])];
}

/** Envelope = delivery set; header To/Cc keep their place when in the envelope; the rest is Bcc. */
export function expectedRecipients(
  envelope: readonly string[],
  to: readonly PyMailbox[],
  cc: readonly PyMailbox[],
) {
  const inEnvelope = (list: readonly PyMailbox[], exclude: readonly string[]) =>
    [...new Set(list.map((m) => key(m.address)))].filter((a) => envelope.includes(a) && !exclude.includes(a));
  const expectedTo = inEnvelope(to, []);
  const expectedCc = inEnvelope(cc, expectedTo);
  const bcc = envelope.filter((a) => !expectedTo.includes(a) && !expectedCc.includes(a));
  return { to: expectedTo, cc: expectedCc, bcc };
}

/** One line, control characters and runs of whitespace as one space, at most 255 characters (… when cut). */
export function expectedSubject(subject: string | null): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this matches
  const text = (subject ?? '').replace(/[\u0000-\u001f\u007f-\u009f\s]+/gu, ' ').trim();
  const chars = Array.from(text);
  return chars.length <= 255 ? text : `${chars.slice(0, 254).join('')}…`;
}

/** Display name: whitespace collapsed, none when empty or equal to the address. */
export function expectedName(name: string, address: string): string | undefined {
  const text = fromSurrogateEscape(name).replace(/\s+/gu, ' ').trim();
  return text.length === 0 || text.toLowerCase() === key(address) ? undefined : text;
}

/**
 * The attachment name: the reference's file name reduced to its last path segment with control characters as
 * spaces and Windows-unsafe characters as "_" (+ ".eml" for embedded messages); or, without a name, a
 * generated `attachment-N.ext` / `image-N.ext` / `message-N.eml` (N = 1-based position).
 */
export function expectedFileName(
  filename: string | null,
  contentType: string,
  position: number,
): RegExp | string {
  // eslint-disable-next-line no-control-regex -- control characters are what this matches
  const segments = (filename ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/gu, ' ').split(/[/\\]/);
  const last = (segments[segments.length - 1] ?? '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
  const isMessage = contentType === 'message/rfc822' || contentType === 'message/global';
  if (last.length === 0 || /^\.+$/.test(last))
    return new RegExp(`^(attachment|image|message)-${position}\\.[a-z0-9]+$`);
  return isMessage && !last.toLowerCase().endsWith('.eml') ? `${last}.eml` : last;
}

/** The reply-to the plan must carry when the default mailbox sends: the message's Reply-To, else its sender. */
export function expectedReplyTo(replyTo: readonly PyMailbox[], from: readonly PyMailbox[]): string[] {
  if (replyTo.length > 0) return replyTo.map((m) => key(m.address));
  const sender = from.map((m) => key(m.address)).find(looksDeliverable);
  return [sender ?? DEVICE_MAIL_FROM];
}
