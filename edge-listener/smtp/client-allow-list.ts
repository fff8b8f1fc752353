import { BlockList, isIP } from 'node:net';

/**
 * This machine only, as Postfix does since 3.0 (`mynetworks_style = host`): devices on the network are let in
 * by listing them. A default of "all private ranges" let any guest Wi-Fi, VPN pool or compromised PC submit.
 */
export const DEFAULT_ALLOWED_CLIENTS = ['127.0.0.0/8', '::1/128'];

/** The private ranges (RFC 1918, RFC 4193 unique-local, link-local): doctor warns when a public bind trusts them. */
export const PRIVATE_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  'fc00::/7',
  'fe80::/10',
];

/** Whether binding to `host` keeps the listener on this machine (loopback addresses and `localhost`). */
export function isLoopbackBind(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  return isIP(h) === 4 ? h.startsWith('127.') : h === '::1';
}

/** Returns a problem text for an entry that is not an address or CIDR block, else undefined. */
export function cidrProblem(entry: string): string | undefined {
  const [addr = '', prefix, extra] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR block`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || bits > max) return `"${entry}": prefix must be 0–${max}`;
  return undefined;
}

const MAX_REMEMBERED_ADDRESSES = 1024;

/**
 * The CIDR allow-list checked in onConnect, before the greeting. node:net's BlockList does the matching;
 * smtp-server already strips the ::ffff: prefix a dual-stack socket reports for an IPv4 client.
 */
export class ClientAllowList {
  readonly #list = new BlockList();
  /** Answers by address: a site has a handful of devices, and BlockList.check showed per message in profiles. */
  readonly #answers = new Map<string, boolean>();
  readonly entries: readonly string[];

  /** Entries must have passed cidrProblem (the config does that and lists every bad one). */
  constructor(entries: readonly string[]) {
    this.entries = entries;
    for (const entry of entries) {
      const [addr = '', prefix] = entry.split('/');
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(prefix), type);
    }
  }

  allows(address: string): boolean {
    const known = this.#answers.get(address);
    if (known !== undefined) return known;
    const family = isIP(address);
    const allowed = family !== 0 && this.#list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    // Bounded: a scan of many addresses must not grow memory; forgetting only costs a check.
    if (this.#answers.size >= MAX_REMEMBERED_ADDRESSES) this.#answers.clear();
    this.#answers.set(address, allowed);
    return allowed;
  }
}
