import { z } from 'zod';

/**
 * The SMTP envelope of one message as the edge listener received it. The envelope is not the headers (Bcc!):
 * it is what decides who receives the message, so it travels beside the raw MIME, never inside it.
 */
export const MAX_RECIPIENTS = 500; // Exchange Online's default recipient limit per message.

/** Spool ids double as idempotency keys: ASCII, URL- and file-name-safe, unique across restarts and listeners. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{7,127}$/;
export const SITE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const address = z.string().max(320);

export const envelopeSchema = z.object({
  messageId: z.string().regex(MESSAGE_ID_PATTERN),
  siteId: z.string().regex(SITE_ID_PATTERN),
  /** MAIL FROM address without brackets; '' is the null sender. */
  mailFrom: address,
  /** Every accepted RCPT TO, in order, without brackets. */
  rcptTo: z.array(address.min(3)).min(1).max(MAX_RECIPIENTS),
  clientAddress: z.string().max(64),
  helo: z.string().max(512),
  /** ISO 8601 time the edge had the message durably on disk. */
  receivedAt: z.string().datetime({ offset: true }),
  /** SMTP AUTH user, if the client authenticated (never the password). */
  authUser: z.string().max(256).optional(),
  /**
   * The sender patterns this device is bound to (BRIDGE_SENDER_BINDINGS of the edge; core/sender-pattern.ts),
   * when it is bound: the function sends only as a From (else MAIL FROM) that matches one of them AND the site
   * policy. Absent: the device is not bound (an older edge sends none; a function that predates the field
   * ignores it — the edge has refused such messages already).
   */
  senderBinding: z.array(z.string().max(320)).min(1).max(100).optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;

/**
 * Normalises an address for comparison: trims, strips angle brackets, lower-cases the domain. The local part
 * keeps its case (RFC 5321 §2.4), but Exchange treats it case-insensitively, so comparisons lower-case it too.
 */
export function normalizeAddress(raw: string): string {
  let a = raw.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1).trim();
  const at = a.lastIndexOf('@');
  if (at < 0) return a;
  return `${a.slice(0, at)}@${a.slice(at + 1).toLowerCase()}`;
}

/** Key for set membership of addresses: case-insensitive as Exchange is. */
export function addressKey(raw: string): string {
  return normalizeAddress(raw).toLowerCase();
}
