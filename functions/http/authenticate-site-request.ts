import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { WIRE_HEADERS } from '../../core/wire';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, ServicesGetter } from '../services';
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
  | { ok: true; services: FunctionServices; log: Logger; verified: VerifiedRequest }
  | { ok: false; response: HttpResponseInit };

export function authenticateSiteRequest(
  request: HttpRequest,
  context: InvocationContext,
  getServices: ServicesGetter,
  route: SiteRoute,
): SiteRequestAuth {
  let services: FunctionServices;
  try {
    services = getServices();
  } catch (err) {
    return { ok: false, response: errorResponse(toBridgeError(err), route.answerId) };
  }
  const log = invocationLogger(context, services.config.logLevel, { fn: route.fn });
  try {
    const verified = verifySiteRequest(request, services.config.siteSecrets, services.now());
    route.check?.(verified, services);
    if (verified.signatureVersion === 1) noteOutdatedSignature(log, services, verified.siteId);
    return { ok: true, services, log, verified };
  } catch (err) {
    return { ok: false, response: refuseSiteRequest(log, request, err, route) };
  }
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
