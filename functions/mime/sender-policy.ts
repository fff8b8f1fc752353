import { normalizeAddress } from '../../core/envelope';
import { matchesSenderPattern } from '../../core/sender-pattern';
import { bridgeError } from '../../core/errors';
import { isDeliverableAddress } from './address';

/**
 * Which mailboxes the bridge may send as (BRIDGE_ALLOWED_SENDERS / BRIDGE_DEFAULT_SENDER, or a site's own
 * values). Entries are addresses, `*@domain`, or a lone `*` for any sender (functions/config.ts accepts it for the
 * `npm start` sandbox; Exchange RBAC still limits a real tenant). Comparison is case-insensitive, as Exchange's is.
 */
export interface SenderPolicy {
  allowedSenders: string[];
  defaultSender?: string;
}

export interface SenderChoice {
  /** The mailbox whose /users/{id}/sendMail sends the message. */
  mailbox: string;
  /** True when the original sender was not allowed and the default mailbox sends instead. */
  senderRewritten: boolean;
  /** The sender the device meant (From, else MAIL FROM), when it had a deliverable address. */
  originalSender?: string;
}

/** Whether `address` matches an entry of the allow-list (core/sender-pattern.ts: address, `*@domain`, `*`). */
export function isSenderAllowed(address: string, allowedSenders: readonly string[]): boolean {
  return address.trim() !== '' && matchesSenderPattern(address, allowedSenders);
}

/**
 * The device binding, checked again here (the edge checked it at end of DATA: edge-listener/smtp/sender-bindings.ts)
 * with this side's parse of the From header, so a header that two parsers read differently cannot slip through.
 * The site policy (chooseSender) alone cannot stop a device from claiming another mailbox the site may send as;
 * the binding, signed into the envelope by the site's edge, can. Every deliverable From address (else MAIL FROM)
 * must match it. No binding: nothing to check.
 */
export function checkDeviceBinding(
  fromAddresses: readonly (string | undefined)[],
  envelopeMailFrom: string,
  binding: readonly string[] | undefined,
): void {
  if (!binding) return;
  const from = fromAddresses.map((a) => normalizeAddress(a ?? '')).filter((a) => isDeliverableAddress(a));
  const mailFrom = normalizeAddress(envelopeMailFrom);
  const claims = from.length > 0 ? from : isDeliverableAddress(mailFrom) ? [mailFrom] : [];
  const refused = claims.filter((a) => !matchesSenderPattern(a, binding));
  if (refused.length > 0)
    throw bridgeError('DEVICE_SENDER_NOT_BOUND', {
      detail: `the device is bound to ${binding.join(', ')}, not ${refused.join(', ')}`,
    });
}

/**
 * Decides who sends (pure; no I/O). The From address is the sender; when the message has none that can be
 * delivered to, the SMTP MAIL FROM stands in (copiers that leave From empty still say who they are there).
 * An allowed sender sends as itself. Otherwise the default mailbox sends, and the caller keeps the original
 * sender visible (Reply-To and display name). Without a default mailbox the message is refused.
 */
export function chooseSender(
  fromAddress: string | undefined,
  envelopeMailFrom: string,
  policy: SenderPolicy,
): SenderChoice {
  const candidates = [fromAddress, envelopeMailFrom].map((a) => (a === undefined ? '' : normalizeAddress(a)));
  const original = candidates.find((a) => isDeliverableAddress(a));
  if (original !== undefined && isSenderAllowed(original, policy.allowedSenders)) {
    return { mailbox: original, senderRewritten: false };
  }
  const fallback = policy.defaultSender === undefined ? '' : normalizeAddress(policy.defaultSender);
  if (fallback.length > 0) {
    return original === undefined
      ? { mailbox: fallback, senderRewritten: true }
      : { mailbox: fallback, senderRewritten: true, originalSender: original };
  }
  throw bridgeError('SENDER_NOT_ALLOWED', {
    detail:
      original === undefined ? 'the message names no sender address' : 'the sender is not in the allow-list',
  });
}
