import { SenderPatterns, senderPatternProblem } from '../../core/sender-pattern';
import { ClientAllowList, cidrProblem } from './client-allow-list';

/**
 * Which From addresses each device may use (BRIDGE_SENDER_BINDINGS). The site policy of the function says which
 * mailboxes the SITE may send as; it cannot tell one device from another, so with `*@contoso.com` any allowed
 * client could put `From: ceo@contoso.com` on a message and Graph would send it as the CEO. A binding ties a
 * device — an AUTH user, or a client address range — to the senders it may claim:
 *
 *   user:mfp-3f=scanner@contoso.com             the AUTH user mfp-3f may send as scanner@contoso.com
 *   client:192.168.10.0/24=*@scans.contoso.com   devices in that range: anything @scans.contoso.com
 *   user:erp=billing@contoso.com|invoices@contoso.com    several patterns (or repeat the entry)
 *
 * Patterns: core/sender-pattern.ts. The edge checks the header From (else MAIL FROM) at end of DATA; the
 * binding also travels in the signed envelope (`senderBinding`) so the function checks it again.
 * Resolution: an authenticated user with a binding uses its own; otherwise the bindings of every client range
 * containing the address, together; a device with none is unbound (only the site policy applies).
 */
export interface SenderBindingEntry {
  kind: 'user' | 'client';
  /** User name (case-insensitive) or CIDR. */
  who: string;
  patterns: string[];
}

const ENTRY = /^(user|client):([^=]+)=(.+)$/i;

/** Parses one setting entry, or returns a problem text. */
export function parseBindingEntry(entry: string): SenderBindingEntry | string {
  const m = ENTRY.exec(entry.trim());
  if (!m)
    return `"${entry}" must be user:<name>=<pattern> or client:<address or CIDR>=<pattern> (several patterns: p1|p2)`;
  const kind = m[1]!.toLowerCase() as 'user' | 'client';
  const who = m[2]!.trim();
  const patterns = m[3]!.split('|').map((p) => p.trim());
  if (kind === 'client') {
    const problem = cidrProblem(who);
    if (problem) return problem;
  }
  for (const p of patterns) {
    const problem = senderPatternProblem(p);
    if (problem) return problem;
    if (p === '<>')
      return `"${entry}": <> names no From address; a binding lists the From addresses a device may use`;
  }
  return { kind, who, patterns };
}

export class SenderBindings {
  readonly #users = new Map<string, string[]>();
  readonly #clients: Array<{ range: ClientAllowList; patterns: string[] }> = [];

  constructor(entries: readonly SenderBindingEntry[]) {
    for (const e of entries) {
      if (e.kind === 'user') {
        const key = e.who.toLowerCase();
        this.#users.set(key, [...(this.#users.get(key) ?? []), ...e.patterns]);
      } else this.#clients.push({ range: new ClientAllowList([e.who]), patterns: e.patterns });
    }
  }

  get isEmpty(): boolean {
    return this.#users.size === 0 && this.#clients.length === 0;
  }

  /** The patterns this device may claim as sender, or undefined when it is not bound. */
  forDevice(authUser: string | undefined, client: string): string[] | undefined {
    const own = authUser === undefined ? undefined : this.#users.get(authUser.toLowerCase());
    if (own) return [...new Set(own)];
    const ranges = this.#clients.filter((c) => c.range.allows(client)).flatMap((c) => c.patterns);
    return ranges.length > 0 ? [...new Set(ranges)] : undefined;
  }
}

/**
 * The addresses a message claims as its sender, the way the function picks it: the header From's addresses
 * when there are any, else MAIL FROM. Returns those the binding does not allow (empty: fine).
 */
export function unboundClaims(
  binding: readonly string[],
  fromAddresses: readonly string[],
  mailFrom: string,
): string[] {
  const claims = fromAddresses.length > 0 ? fromAddresses : mailFrom ? [mailFrom] : [];
  const patterns = new SenderPatterns(binding);
  return claims.filter((a) => !patterns.matches(a));
}
