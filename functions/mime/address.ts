import type { AddressObject, EmailAddress } from 'mailparser';

import { normalizeAddress } from '../../core/envelope';

/** One mailbox as the Graph message carries it: an address and, when the message gave one, a display name. */
export interface Mailbox {
  address: string;
  name?: string;
}

/** RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain; 254 in all is the practical path limit. */
const MAX_LOCAL_LENGTH = 64;
const MAX_ADDRESS_LENGTH = 254;
/** Display names longer than this are cut: nobody reads them, and Exchange stores names in bounded fields. */
export const MAX_DISPLAY_NAME_LENGTH = 256;

// Unquoted local part: anything printable except the RFC 5322 specials and whitespace. Non-ASCII is allowed
// (RFC 6531 SMTPUTF8); Exchange decides whether it can deliver to it.
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const DOT_ATOM_LOCAL = /^[^\s"(),:;<>@[\\\]\u0000-\u001f\u007f]+$/u;
const QUOTED_LOCAL = /^"(?:[^"\\\r\n]|\\[^\r\n])*"$/u;
const DOMAIN_LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;
const DOMAIN_LITERAL = /^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]$/u;

/**
 * Whether `address` is a mailbox Exchange Online could deliver to or send from: local@domain with a dotted
 * domain (or an address literal). Dotless domains (`scan@HQ`, as copiers write their host name) are valid
 * RFC 5321 syntax but never routable from Exchange Online, so they count as invalid here.
 */
export function isDeliverableAddress(address: string): boolean {
  if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > MAX_LOCAL_LENGTH) return false;
  if (!QUOTED_LOCAL.test(local)) {
    if (!DOT_ATOM_LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
      return false;
    }
  }
  if (DOMAIN_LITERAL.test(domain)) return true;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => DOMAIN_LABEL.test(label));
}

/** Removes control characters (NUL, bare CR, LF, tabs…) that header-derived text must not carry into Graph. */
export function stripControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this matches
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/gu, ' ');
}

/** Cuts text to at most `max` code points (never splitting a surrogate pair), ending in '…' when cut. */
export function truncateText(text: string, max: number): string {
  const codePoints = Array.from(text);
  if (codePoints.length <= max) return text;
  return `${codePoints.slice(0, max - 1).join('')}…`;
}

/**
 * A display name fit for Graph: no control characters, whitespace collapsed, stray quotes removed, bounded.
 * Undefined when nothing is left or the name only repeats the address (copiers often send `a@b <a@b>`).
 */
export function cleanDisplayName(name: string | undefined, address: string): string | undefined {
  if (name === undefined) return undefined;
  let text = stripControlCharacters(name).replace(/\s+/gu, ' ').trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
  if (text.length === 0 || text.toLowerCase() === address.toLowerCase()) return undefined;
  return truncateText(text, MAX_DISPLAY_NAME_LENGTH);
}

function flatten(entries: readonly EmailAddress[], out: EmailAddress[]): void {
  for (const entry of entries) {
    if (Array.isArray(entry.group)) flatten(entry.group, out);
    else out.push(entry);
  }
}

/**
 * The deliverable mailboxes of a parsed address header (one header or repeated ones), groups flattened, in
 * header order. Entries without a deliverable address (`undisclosed-recipients:;`, `Scanner <>`) are left out.
 */
export function mailboxesOf(header: AddressObject | AddressObject[] | undefined): Mailbox[] {
  if (header === undefined) return [];
  const entries: EmailAddress[] = [];
  for (const object of Array.isArray(header) ? header : [header]) {
    if (Array.isArray(object?.value)) flatten(object.value, entries);
  }
  const out: Mailbox[] = [];
  for (const entry of entries) {
    const address = normalizeAddress(
      stripControlCharacters(typeof entry.address === 'string' ? entry.address : '').trim(),
    );
    if (!isDeliverableAddress(address)) continue;
    const name = cleanDisplayName(typeof entry.name === 'string' ? entry.name : undefined, address);
    out.push(name === undefined ? { address } : { address, name });
  }
  return out;
}
