import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

import type { StatusPageConfig } from './settings';

/**
 * Who may see the status page's data (subjects and addresses) and use its actions: anyone presenting the admin
 * token, or — when BRIDGE_ADMIN_LOOPBACK_TRUST is on (the default outside the container image) — a browser on
 * this machine talking to the listener directly.
 *
 * "Directly" is the whole point (docs/security-model.md, "Admin access"). A reverse proxy on the same host
 * (nginx `proxy_pass http://127.0.0.1:8025`, IIS ARR), rootless Podman's port handler and Docker's userland
 * proxy all make a remote visitor's request arrive from a loopback address. So address trust needs ALL of:
 *   - a loopback peer (127.0.0.0/8, ::1), never any other range;
 *   - a loopback name in Host (localhost, 127.x.x.x, [::1]) — no other IP literal and no other name, which
 *     also closes DNS rebinding;
 *   - no Forwarded, X-Forwarded-* or Via header: whatever added one is a proxy speaking for someone else.
 * A proxy that adds none of these headers is indistinguishable from a local browser: behind such a proxy,
 * switch BRIDGE_ADMIN_LOOPBACK_TRUST off (docs/edge-install.md, "Behind a reverse proxy").
 *
 * Cross-site requests from other web pages that browser visits: actions need a JSON body (a cross-origin JSON
 * POST needs a CORS preflight, which this server never grants) and, where the browser says, a same-origin
 * Origin / Sec-Fetch-Site.
 */
export type AccessDecision =
  | { ok: true; via: 'address' | 'token'; client: string }
  | { ok: false; status: 401 | 403; reason: string; client: string };

/** Headers only a proxy adds: RFC 7239 Forwarded, the de-facto X-Forwarded-*, RFC 9110 Via. */
export function proxyHeaderOf(req: IncomingMessage): string | undefined {
  return Object.keys(req.headers).find(
    (name) => name === 'forwarded' || name === 'via' || name.startsWith('x-forwarded-'),
  );
}

export class AdminAccess {
  readonly #loopbackTrust: boolean;
  readonly #tokenDigest: Buffer | undefined;
  readonly #onProxyHeader: (header: string) => void;

  /** `onProxyHeader` hears of every request that came through a proxy (doctor warns about those). */
  constructor(config: StatusPageConfig, onProxyHeader: (header: string) => void = () => undefined) {
    this.#loopbackTrust = config.loopbackTrust;
    this.#tokenDigest = config.adminToken ? digest(config.adminToken.reveal()) : undefined;
    this.#onProxyHeader = onProxyHeader;
  }

  /** May this request read the status data? */
  check(req: IncomingMessage): AccessDecision {
    const client = clientAddress(req);
    const proxyHeader = proxyHeaderOf(req);
    if (proxyHeader !== undefined) this.#onProxyHeader(proxyHeader);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) {
      if (this.#tokenDigest && timingSafeEqual(digest(bearer), this.#tokenDigest))
        return { ok: true, via: 'token', client };
      return { ok: false, status: 401, reason: 'the admin token is wrong', client };
    }
    const refuse = (why: string): AccessDecision => ({
      ok: false,
      status: 401,
      reason: this.#tokenDigest
        ? `${why}: the admin token is required`
        : `${why}, and no admin token is configured (BRIDGE_ADMIN_TOKEN)`,
      client,
    });
    if (!this.#loopbackTrust) return refuse('address trust is off (BRIDGE_ADMIN_LOOPBACK_TRUST)');
    if (!isLoopbackAddress(client)) return refuse('this address is not this machine');
    if (proxyHeader !== undefined) return refuse(`the request came through a proxy (${proxyHeader})`);
    if (!isLoopbackHost(req.headers.host)) return refuse('under this host name');
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
}

/** 127.0.0.0/8 or ::1 (a dual-stack socket's ::ffff: prefix is already gone: clientAddress). */
export function isLoopbackAddress(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}

/** Host names a browser on this machine uses for it: localhost, 127.x.x.x, [::1] — with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(host.trim().toLowerCase());
  if (!m) return false;
  const name = m[1]!.replace(/^\[|\]$/g, '');
  return name === 'localhost' || isLoopbackAddress(name);
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
