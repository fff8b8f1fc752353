import { addressKey } from './envelope';

/**
 * THE syntax for "which sender addresses", used by every list of them: the edge's envelope-sender filter
 * (BRIDGE_SMTP_ALLOWED_SENDERS), the per-device bindings (BRIDGE_SENDER_BINDINGS) and the function's site
 * policy (BRIDGE_ALLOWED_SENDERS / a site's allowedSenders). One entry is
 *
 *   user@domain   that address (case-insensitive, as Exchange compares)
 *   *@domain      any address at that domain (not its subdomains)
 *   *             any address
 *   <>            the null sender (an empty MAIL FROM: bounces, some devices' notifications)
 */
export const SENDER_PATTERN_SYNTAX = 'user@domain, *@domain, * (anyone) or <> (the null sender)';
const SENDER_PATTERN = /^(<>|\*|(\*|[^@\s<>*]+)@[^@\s<>*]+)$/;

/** A problem text for an entry that is not a sender pattern, else undefined. */
export function senderPatternProblem(entry: string): string | undefined {
  return SENDER_PATTERN.test(entry.trim())
    ? undefined
    : `"${entry}" is not a sender pattern (${SENDER_PATTERN_SYNTAX})`;
}

/** A compiled list of sender patterns. `matches('')` asks about the null sender. */
export class SenderPatterns {
  readonly #exact = new Set<string>();
  readonly #domains = new Set<string>();
  readonly #nullSender: boolean;
  readonly #any: boolean;
  readonly entries: readonly string[];

  /** Entries that are not patterns (see senderPatternProblem; config validation lists them) match nothing. */
  constructor(entries: readonly string[]) {
    this.entries = entries;
    let nullSender = false;
    let any = false;
    for (const raw of entries) {
      const p = raw.trim();
      if (senderPatternProblem(p)) continue;
      if (p === '<>') nullSender = true;
      else if (p === '*') any = true;
      else if (p.startsWith('*@')) this.#domains.add(p.slice(2).toLowerCase());
      else this.#exact.add(addressKey(p));
    }
    this.#nullSender = nullSender;
    this.#any = any;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** True when `*` is in the list: every address matches. */
  get matchesAnyone(): boolean {
    return this.#any;
  }

  matches(address: string): boolean {
    const a = address.trim();
    if (a === '' || a === '<>') return this.#nullSender;
    if (this.#any) return true;
    const key = addressKey(a);
    return this.#exact.has(key) || this.#domains.has(key.slice(key.lastIndexOf('@') + 1));
  }
}

/** One-off form of SenderPatterns#matches. */
export function matchesSenderPattern(address: string, entries: readonly string[]): boolean {
  return new SenderPatterns(entries).matches(address);
}
