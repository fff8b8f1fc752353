import { randomBytes } from 'node:crypto';

import { DIAGNOSTICS_NONCE_PREFIX } from '../../core/diagnostics';
import { EMPTY_SHA256, signedHeaders, WIRE_HEADERS } from '../../core/wire';
import type { EdgeConfig } from '../config';

/**
 * The doctor's HTTP requests to the function: the anonymous liveness route and signed GETs (diagnostics,
 * message status), signed exactly as the forwarder signs (core/wire.ts) so an accepted signature here means
 * the forwarder's will be accepted too.
 */
export interface HttpAnswer {
  status: number;
  contentType: string;
  /** Parsed JSON body, when the body was JSON. */
  json?: unknown;
  /** The first 300 characters of the body (to recognise a login page or a proxy). */
  text: string;
}

/** A request that got no HTTP answer: `code` is the socket/TLS/DNS error code (ECONNREFUSED, CERT_HAS_EXPIRED…). */
export class NoAnswerError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function getJson(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (e) {
    const code = errorCode(e);
    throw new NoAnswerError(`${code}: ${(e as Error).message}`, code);
  }
  const text = await res.text().catch(() => '');
  const answer: HttpAnswer = {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text: text.slice(0, 300),
  };
  try {
    if (text) answer.json = JSON.parse(text);
  } catch {
    // not JSON: the caller decides what that means
  }
  return answer;
}

/** A signed GET of `path` and its query (SGB/2 signs both, core/wire.ts), with the function key when configured. */
export async function signedGet(
  config: EdgeConfig,
  path: string,
  opts: { messageId: string; query?: URLSearchParams; timeoutMs: number },
): Promise<HttpAnswer> {
  const headers: Record<string, string> = signedHeaders({
    siteId: config.siteId,
    messageId: opts.messageId,
    bodySha256: EMPTY_SHA256,
    secret: config.forward.siteSecret.reveal(),
    method: 'GET',
    path,
    ...(opts.query ? { query: opts.query } : {}),
  });
  if (config.forward.functionKey) headers[WIRE_HEADERS.functionKey] = config.forward.functionKey.reveal();
  const url = new URL(path, config.forward.url);
  if (opts.query) url.search = opts.query.toString();
  return getJson(url.toString(), headers, opts.timeoutMs);
}

export function diagnosticsNonce(): string {
  return `${DIAGNOSTICS_NONCE_PREFIX}${randomBytes(8).toString('hex')}`;
}

/** The innermost error code of a fetch failure (undici wraps the socket/TLS/DNS error in `cause`). */
export function errorCode(err: unknown): string {
  let found: string | undefined;
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === 'string') found = o.code;
    else if (found === undefined && (o.name === 'TimeoutError' || o.name === 'AbortError'))
      found = 'ETIMEDOUT';
    e = o.cause;
  }
  return found ?? 'ERROR';
}
