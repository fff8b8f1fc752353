import { addressKey, normalizeAddress } from '../../core/envelope';
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

/** Whether `address` matches an entry of the allow-list: the same address, `*@its-domain`, or `*`. */
export function isSenderAllowed(address: string, allowedSenders: readonly string[]): boolean {
  const key = addressKey(address);
  const domain = key.slice(key.lastIndexOf('@') + 1);
  return allowedSenders.some((entry) => {
    const pattern = entry.trim().toLowerCase();
    if (pattern === '*') return true;
    if (pattern === '*') return true;
    if (pattern.startsWith('*@')) return pattern.slice(2) === domain;
    return pattern.length > 0 && addressKey(pattern) === key;
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
