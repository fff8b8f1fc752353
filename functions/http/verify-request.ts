import type { HttpRequest } from '@azure/functions';

import { MESSAGE_ID_PATTERN, SITE_ID_PATTERN } from '../../core/envelope';
import { bridgeError } from '../../core/errors';
import {
  canonicalQuery,
  MAX_CLOCK_SKEW_MS,
  signatureVersion,
  type SignatureVersion,
  verifySignature,
  WIRE_HEADERS,
} from '../../core/wire';

/**
 * Authenticates an edge request from its headers alone, before a byte of the body is read: the site must be
 * known, the HMAC over method, path, canonical query, timestamp, message id and body digest must match the
 * site secret (core/wire.ts: SGB/2; an SGB/1 signature, which does not cover the query, only on a request
 * without one), and the timestamp must be within ±5 minutes (replay window). The body digest is checked
 * later, while the body streams (read-framed-body.ts).
 */
export interface VerifiedRequest {
  siteId: string;
  messageId: string;
  /** Signed hex SHA-256 of the whole body. */
  bodySha256: string;
  /** The signature scheme the caller used (1 = an edge from before SGB/2). */
  signatureVersion: SignatureVersion;
}

export function verifySiteRequest(
  request: HttpRequest,
  siteSecrets: Record<string, string>,
  now: Date,
): VerifiedRequest {
  const header = (name: string) => request.headers.get(name)?.trim() ?? '';
  const siteId = header(WIRE_HEADERS.site);
  const secret =
    SITE_ID_PATTERN.test(siteId) && Object.hasOwn(siteSecrets, siteId) ? siteSecrets[siteId] : undefined;
  if (!secret)
    throw bridgeError('SITE_UNKNOWN', {
      detail: siteId ? `site "${siteId.slice(0, 64)}"` : 'no site header',
    });

  const messageId = header(WIRE_HEADERS.messageId);
  const timestamp = header(WIRE_HEADERS.timestamp);
  const bodySha256 = header(WIRE_HEADERS.bodySha256).toLowerCase();
  const signature = header(WIRE_HEADERS.signature);
  if (!signature || !/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(bodySha256)) {
    throw bridgeError('SITE_SIGNATURE_INVALID', { detail: 'signature headers missing or malformed' });
  }
  const url = new URL(request.url);
  const version = signatureVersion(signature);
  if (version === 1 && canonicalQuery(url.search) !== '') {
    throw bridgeError('SITE_SIGNATURE_INVALID', {
      detail: 'an SGB/1 signature does not cover the query string; sign with SGB/2 (v2=)',
    });
  }
  const valid = verifySignature(
    { method: request.method, path: url.pathname, query: url.search, timestamp, messageId, bodySha256 },
    secret,
    signature,
  );
  if (!valid) throw bridgeError('SITE_SIGNATURE_INVALID');
  const skewMs = Math.abs(now.getTime() - Number(timestamp) * 1000);
  if (skewMs > MAX_CLOCK_SKEW_MS)
    throw bridgeError('REQUEST_STALE', { detail: `clock differs by ${Math.round(skewMs / 1000)} s` });
  if (!MESSAGE_ID_PATTERN.test(messageId))
    throw bridgeError('WIRE_MALFORMED', { detail: 'message id header' });
  return { siteId, messageId, bodySha256, signatureVersion: version };
}
