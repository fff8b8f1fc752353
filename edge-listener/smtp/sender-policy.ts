import { addressKey } from '../../core/envelope';

/**
 * The listener's own MAIL FROM filter (BRIDGE_SMTP_ALLOWED_SENDERS), separate from the function's policy of
 * which mailbox may send: it stops a device or a compromised PC on the LAN from using the bridge with
 * envelope senders nobody expects. Entries: `user@domain`, `*@domain`, or `<>` for the null sender.
 * An empty list allows every sender.
 */
export const SENDER_PATTERN = /^(<>|(\*|[^@\s]+)@[^@\s]+)$/;

export class SenderPolicy {
  readonly #exact = new Set<string>();
  readonly #domains = new Set<string>();
  #nullSender = false;
  readonly #any: boolean;

  constructor(patterns: readonly string[]) {
    this.#any = patterns.length === 0;
    for (const p of patterns) {
      if (p === '<>') this.#nullSender = true;
      else if (p.startsWith('*@')) this.#domains.add(p.slice(2).toLowerCase());
      else this.#exact.add(addressKey(p));
    }
  }

  allows(mailFrom: string): boolean {
    if (this.#any) return true;
    if (mailFrom === '') return this.#nullSender;
    const key = addressKey(mailFrom);
    return this.#exact.has(key) || this.#domains.has(key.slice(key.lastIndexOf('@') + 1));
  }
}
