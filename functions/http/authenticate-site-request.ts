import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { SITE_ID_PATTERN } from '../../core/envelope';
import { bridgeError, BridgeError, toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { DIAGNOSTICS_NONCE_PREFIX } from '../../core/diagnostics';
import { EMPTY_SHA256, WIRE_HEADERS } from '../../core/wire';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, ServicesGetter } from '../services';
import { resolveSite, type ResolvedSite } from '../tenants/site-directory';
import { errorResponse } from './responses';
import { verifySiteRequest, type VerifiedRequest } from './verify-request';

/**
 * The start every site-signed route shares: the services (a configuration error is answered at once), the
 * invocation logger, the site signature (verify-request.ts) and the route's own rules on top of it. A refused
 * request is logged as REQUEST_REJECTED and answered as a WireResult.
 */
export interface SiteRoute {
  /** Function name in the log lines. */
  fn: string;
  /** The id a refusal answers with: the message id the caller named, or a diagnostics nonce. */
  answerId: string;
  /** Whether the REQUEST_REJECTED line names `answerId` (a message id does; a diagnostics nonce does not). */
  logAnswerId: boolean;
  /** The route's rules beyond the signature; throws a BridgeError to refuse. */
  check?: (verified: VerifiedRequest, services: FunctionServices) => void;
}

export type SiteRequestAuth =
  | { ok: true; services: FunctionServices; log: Logger; verified: VerifiedRequest; site: ResolvedSite }
  | { ok: false; response: HttpResponseInit };

export async function authenticateSiteRequest(
  request: HttpRequest,
  context: InvocationContext,
  getServices: ServicesGetter,
  route: SiteRoute,
): Promise<SiteRequestAuth> {
  let services: FunctionServices;
  try {
    services = getServices();
  } catch (err) {
    return { ok: false, response: errorResponse(toBridgeError(err), route.answerId) };
  }
  const log = invocationLogger(context, services.config.logLevel, { fn: route.fn });
  try {
    const { verified, site } = await verifyAgainstDirectory(request, services);
    route.check?.(verified, services);
    if (verified.signatureVersion === 1) noteOutdatedSignature(log, services, verified.siteId);
    return { ok: true, services, log, verified, site };
  } catch (err) {
    return { ok: false, response: refuseSiteRequest(log, request, err, route) };
  }
}

/**
 * The `check` of a signed GET that carries no message (diagnostics, deep health): it signs an empty body and a
 * `doctor-…` nonce in place of a message id, so it can never be mistaken for, or replayed as, a message request.
 */
export function signedNonceCheck(what: string): NonNullable<SiteRoute['check']> {
  return (verified) => {
    if (verified.bodySha256 !== EMPTY_SHA256 || !verified.messageId.startsWith(DIAGNOSTICS_NONCE_PREFIX)) {
      throw bridgeError('SITE_SIGNATURE_INVALID', {
        detail: `a ${what} request signs an empty body and a ${DIAGNOSTICS_NONCE_PREFIX}… nonce`,
      });
    }
  };
}

/** Sites seen signing with SGB/1, per services set (one per instance): the warning is logged once each. */
const outdatedSites = new WeakMap<FunctionServices, Set<string>>();

/** SGB/1 is accepted for one release (core/wire.ts); the log line tells admins which edges to upgrade first. */
function noteOutdatedSignature(log: Logger, services: FunctionServices, siteId: string): void {
  let seen = outdatedSites.get(services);
  if (!seen) {
    seen = new Set();
    outdatedSites.set(services, seen);
  }
  if (seen.has(siteId)) return;
  seen.add(siteId);
  log.warn({ event: 'SIGNATURE_OUTDATED', site: siteId });
}

/** Logs a refused request (REQUEST_REJECTED, never its body) and answers it. */
export function refuseSiteRequest(
  log: Logger,
  request: HttpRequest,
  err: unknown,
  route: Pick<SiteRoute, 'answerId' | 'logAnswerId'>,
): HttpResponseInit {
  const error = toBridgeError(err);
  log.warn({
    event: 'REQUEST_REJECTED',
    code: error.code,
    site: request.headers.get(WIRE_HEADERS.site)?.slice(0, 64),
    ...(route.logAnswerId ? { id: route.answerId } : {}),
    err: error,
  });
  return errorResponse(error, route.answerId);
}

/**
 * The site's secrets come from the registry or the app settings (tenants/site-directory.ts); during a
 * rotation's overlap window two are valid and either signature is accepted. A disabled site is refused
 * after its signature checks out, so an unsigned caller cannot learn which sites exist.
 */
async function verifyAgainstDirectory(
  request: HttpRequest,
  services: FunctionServices,
): Promise<{ verified: VerifiedRequest; site: ResolvedSite }> {
  const siteId = request.headers.get(WIRE_HEADERS.site)?.trim() ?? '';
  const now = services.now();
  const site = SITE_ID_PATTERN.test(siteId)
    ? await resolveSite(services.config, services.registry, siteId, now)
    : undefined;
  if (!site) {
    verifySiteRequest(request, {}, now); // throws SITE_UNKNOWN with the usual detail
    throw bridgeError('SITE_UNKNOWN');
  }
  let refusal: unknown = bridgeError('SITE_UNKNOWN', { detail: `site "${siteId}" has no valid secret` });
  for (const secret of site.secrets) {
    try {
      const verified = verifySiteRequest(request, { [siteId]: secret }, now);
      if (!site.enabled) throw bridgeError('SITE_DISABLED', { detail: `site "${siteId}"` });
      return { verified, site };
    } catch (err) {
      refusal = err;
      if (!(err instanceof BridgeError) || err.code !== 'SITE_SIGNATURE_INVALID') throw err;
    }
  }
  throw refusal;
}
