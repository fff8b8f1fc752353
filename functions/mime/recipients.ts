import { addressKey, MAX_RECIPIENTS, normalizeAddress } from '../../core/envelope';
import { bridgeError } from '../../core/errors';
import { isDeliverableAddress, type Mailbox } from './address';

export interface ReconciledRecipients {
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  /** Every envelope recipient once, normalised, in envelope order. */
  all: string[];
}

/**
 * Recipients = the SMTP envelope, exactly (pure). Graph has no envelope: it delivers to whatever the message
 * lists, so the lists are rebuilt from RCPT TO. An envelope address that the header names in To or Cc stays
 * there, in header order and with its display name; the rest go to Bcc (the copier's own Bcc, or a relay's
 * expansion); addresses only in the header are dropped (they were not asked for in RCPT TO, and sending to
 * them would deliver mail nobody sent — the bug in Microsoft-Graph-SMTP-Relay#48).
 * Duplicates collapse case-insensitively, as Exchange compares addresses.
 */
export function reconcileRecipients(
  rcptTo: readonly string[],
  header: { readonly to: readonly Mailbox[]; readonly cc: readonly Mailbox[] },
): ReconciledRecipients {
  const envelope = new Map<string, string>();
  for (const raw of rcptTo) {
    const address = normalizeAddress(raw);
    if (!isDeliverableAddress(address)) {
      throw bridgeError('RECIPIENT_INVALID', { detail: 'an SMTP recipient is not a deliverable address' });
    }
    const key = addressKey(address);
    if (!envelope.has(key)) envelope.set(key, address);
  }
  if (envelope.size === 0) throw bridgeError('NO_RECIPIENTS');
  if (envelope.size > MAX_RECIPIENTS) {
    throw bridgeError('TOO_MANY_RECIPIENTS', {
      detail: `${envelope.size} recipients, at most ${MAX_RECIPIENTS}`,
    });
  }

  const placed = new Set<string>();
  const keep = (mailboxes: readonly Mailbox[]): Mailbox[] => {
    const out: Mailbox[] = [];
    for (const mailbox of mailboxes) {
      const key = addressKey(mailbox.address);
      const address = envelope.get(key);
      if (address === undefined || placed.has(key)) continue;
      placed.add(key);
      out.push(mailbox.name === undefined ? { address } : { address, name: mailbox.name });
    }
    return out;
  };
  const to = keep(header.to);
  const cc = keep(header.cc);
  const bcc = [...envelope].filter(([key]) => !placed.has(key)).map(([, address]) => ({ address }));
  return { to, cc, bcc, all: [...envelope.values()] };
}
