import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

import { ClientAllowList } from '../smtp/client-allow-list';
import type { StatusPageConfig } from './settings';

/**
 * Who may see the status page's data (subjects and addresses) and use its actions: a caller from an
 * allowed admin address (BRIDGE_ADMIN_CLIENTS, loopback by default), or anyone presenting the admin token.
 *
 * Address-based trust is what a browser on the machine gets for free — and what other web pages that
 * browser visits could try to borrow. Two guards close that door:
 *   - DNS rebinding: an address-trusted request must name this machine in Host (an IP literal, localhost
 *     or the host name); under any other name the token is required.
 *   - Cross-site requests: actions need a JSON body (a cross-origin JSON POST needs a CORS preflight, which
 *     this server never grants) and, where the browser says, a same-origin Origin / Sec-Fetch-Site.
 */
export type AccessDecision =
  | { ok: true; via: 'address' | 'token'; client: string }
  | { ok: false; status: 401 | 403; reason: string; client: string };

export class AdminAccess {
  readonly #clients: ClientAllowList;
  readonly #tokenDigest: Buffer | undefined;
  readonly #localNames: Set<string>;

  constructor(config: StatusPageConfig, machineName: string = hostname()) {
    this.#clients = new ClientAllowList(config.adminClients);
    this.#tokenDigest = config.adminToken ? digest(config.adminToken.reveal()) : undefined;
    const short = machineName.toLowerCase();
    this.#localNames = new Set(['localhost', short, short.split('.')[0] ?? short]);
  }

  /** May this request read the status data? */
  check(req: IncomingMessage): AccessDecision {
    const client = clientAddress(req);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) {
      if (this.#tokenDigest && timingSafeEqual(digest(bearer), this.#tokenDigest))
        return { ok: true, via: 'token', client };
      return { ok: false, status: 401, reason: 'the admin token is wrong', client };
    }
    if (!this.#clients.allows(client)) {
      return {
        ok: false,
        status: 401,
        reason: this.#tokenDigest
          ? 'this address needs the admin token'
          : 'this address is not an admin address (BRIDGE_ADMIN_CLIENTS) and no admin token is configured',
        client,
      };
    }
    if (!this.#namesThisMachine(req.headers.host))
      return { ok: false, status: 401, reason: 'under this host name the admin token is required', client };
    return { ok: true, via: 'address', client };
  }

  /** May this request change the spool? `check` plus the cross-site guards. */
  checkAction(req: IncomingMessage): AccessDecision {
    const decision = this.check(req);
    if (!decision.ok) return decision;
    const refuse = (reason: string): AccessDecision => ({
      ok: false,
      status: 403,
      reason,
      client: decision.client,
    });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return refuse('actions take a JSON body');
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return refuse('cross-site request');
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) return refuse('cross-origin request');
    return decision;
  }

  #namesThisMachine(host: string | undefined): boolean {
    if (!host) return false;
    const name = host
      .replace(/:\d+$/, '')
      .replace(/^\[|\]$/g, '')
      .toLowerCase();
    return isIP(name) !== 0 || this.#localNames.has(name);
  }
}

/** The peer address without the ::ffff: prefix a dual-stack socket gives IPv4 clients. */
export function clientAddress(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
