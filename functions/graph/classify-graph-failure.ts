import { BridgeError, type BridgeErrorCode } from '../../core/errors';
import { parseRetryAfterMs } from '../../core/retry-after';

/**
 * Turns what Microsoft Graph (or the path to it) answered into a BridgeError. Pure: no I/O, no clock except
 * the `nowMs` a caller passes for HTTP-date Retry-After values.
 *
 * The rows are a reviewable table (zone-mta's bounces.txt idea): first match wins, so specific rows come
 * before the catch-all of their status class. Evidence for each row: docs/design/platform-facts.md §A4.
 */

export interface GraphFailure {
  status: number;
  /** error.code of the Graph error body. */
  code?: string;
  /** error.message of the Graph error body. */
  message?: string;
  /** `request-id` header, else error.innerError["request-id"]. */
  requestId?: string;
  retryAfterMs?: number;
}

/**
 * The GraphFailure of an error answer, from its status, its JSON body (`error.code`, `error.message`), its
 * Retry-After header (read at `nowMs`) and the request id the caller found.
 */
export function graphFailureOf(
  status: number,
  json: unknown,
  retryAfter: string | null | undefined,
  requestId: string | undefined,
  nowMs: number,
): GraphFailure {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const retryAfterMs = parseRetryAfterMs(retryAfter, nowMs);
  return {
    status,
    ...(typeof error?.code === 'string' ? { code: error.code } : {}),
    ...(typeof error?.message === 'string' ? { message: error.message } : {}),
    ...(requestId ? { requestId } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

interface Row {
  /** One status, a list of statuses, or 'any'. */
  status: number | readonly number[] | 'any';
  /** Graph error code (exact, case-insensitive); absent = any code. */
  code?: string;
  /** Pattern on the Graph error message; absent = any message. */
  message?: RegExp;
  to: BridgeErrorCode;
  /** Why, in words an admin understands; the Graph code and message are appended. */
  why: string;
}

export const GRAPH_ERROR_ROWS: readonly Row[] = [
  // Mailbox problems show up under several statuses depending on the route; the code decides.
  {
    status: 'any',
    code: 'MailboxNotEnabledForRESTAPI',
    to: 'GRAPH_MAILBOX_NOT_FOUND',
    why: 'the mailbox is inactive, soft-deleted, unlicensed for Exchange Online or hosted on-premises',
  },
  {
    status: 'any',
    code: 'ErrorInvalidUser',
    to: 'GRAPH_MAILBOX_NOT_FOUND',
    why: 'no such user in this tenant',
  },
  {
    status: 'any',
    code: 'ErrorSendAsDenied',
    to: 'GRAPH_SEND_AS_DENIED',
    why: 'the sending mailbox has no Send As right on the From address',
  },
  {
    status: 'any',
    code: 'ErrorInvalidRecipients',
    to: 'GRAPH_INVALID_RECIPIENTS',
    why: 'Graph refused the recipient list',
  },
  {
    status: 'any',
    code: 'ErrorMessageSizeExceeded',
    to: 'GRAPH_PAYLOAD_TOO_LARGE',
    why: "the message exceeds the mailbox's maximum message size",
  },
  {
    status: 429,
    to: 'GRAPH_THROTTLED',
    why: 'throttled (per app and mailbox: 4 concurrent requests, 10,000 requests per 10 minutes, 150 MB uploaded per 5 minutes)',
  },
  { status: 413, to: 'GRAPH_PAYLOAD_TOO_LARGE', why: 'the request exceeds the Graph request size limit' },
  {
    status: 401,
    to: 'GRAPH_TOKEN_FAILED',
    why: 'Graph did not accept the access token (wrong tenant, expired or not issued for Graph)',
  },
  // "Access to OData is disabled." is what Exchange answers when RBAC for Applications or an application
  // access policy leaves this mailbox out of the app's scope (docs/design/platform-facts.md §A5).
  {
    status: 403,
    code: 'ErrorAccessDenied',
    message: /OData is disabled/i,
    to: 'GRAPH_ACCESS_DENIED',
    why: "the mailbox is outside the app's Exchange RBAC for Applications scope (or application access policy)",
  },
  {
    status: 403,
    code: 'ErrorAccessDenied',
    to: 'GRAPH_ACCESS_DENIED',
    why: 'the app lacks the Mail.Send (or, for large messages, Mail.ReadWrite) application permission or its admin consent',
  },
  {
    status: 403,
    code: 'Authorization_RequestDenied',
    to: 'GRAPH_ACCESS_DENIED',
    why: 'insufficient privileges (directory lookups need User.Read.All)',
  },
  { status: 403, to: 'GRAPH_ACCESS_DENIED', why: 'access denied' },
  {
    status: 404,
    code: 'ErrorItemNotFound',
    to: 'GRAPH_UNAVAILABLE',
    why: 'the draft being assembled disappeared; the whole send will be tried again',
  },
  { status: 404, to: 'GRAPH_MAILBOX_NOT_FOUND', why: 'the mailbox (user) was not found' },
  {
    status: [500, 502, 503, 504],
    to: 'GRAPH_UNAVAILABLE',
    why: 'Graph or Exchange Online failed transiently',
  },
  { status: 400, to: 'GRAPH_REJECTED', why: 'Graph refused the request as invalid' },
  { status: 'any', to: 'GRAPH_REJECTED', why: 'unexpected Graph answer' },
];

function statusMatches(rowStatus: Row['status'], status: number): boolean {
  if (rowStatus === 'any') return true;
  if (typeof rowStatus === 'number') return rowStatus === status;
  return rowStatus.includes(status);
}

/** The table row that decides a Graph failure (exported for the table test). */
export function matchGraphRow(f: GraphFailure): Row {
  const code = f.code?.toLowerCase();
  for (const row of GRAPH_ERROR_ROWS) {
    if (!statusMatches(row.status, f.status)) continue;
    if (row.code !== undefined && row.code.toLowerCase() !== code) continue;
    if (row.message !== undefined && !row.message.test(f.message ?? '')) continue;
    return row;
  }
  // Unreachable: the last row matches everything. Kept for the type checker.
  return { status: 'any', to: 'GRAPH_REJECTED', why: 'unexpected Graph answer' };
}

const MAX_GRAPH_MESSAGE_CHARS = 300;

/**
 * Answers to a request that delivers mail after which the message may still have been sent: the gateway gave
 * up waiting (502, 504), or Exchange failed after accepting (500). Reported as GRAPH_OUTCOME_UNKNOWN instead
 * of a retryable GRAPH_UNAVAILABLE, so the bridge looks in Sent Items before sending again. A 503 (and 429)
 * means the request was refused before anything was done: safe to retry.
 */
const UNKNOWN_OUTCOME_STATUSES_WHEN_SENDING = [500, 502, 504];

/**
 * A Graph error answer (HTTP status + error body) → BridgeError with graph {status, code, requestId}.
 * `sending` marks sendMail and /send, the calls that deliver mail.
 */
export function classifyGraphResponse(f: GraphFailure, opts: { sending?: boolean } = {}): BridgeError {
  const row: Row =
    opts.sending && UNKNOWN_OUTCOME_STATUSES_WHEN_SENDING.includes(f.status)
      ? {
          status: f.status,
          to: 'GRAPH_OUTCOME_UNKNOWN',
          why: 'the gateway lost the answer of the mailbox server; the message may have been sent',
        }
      : matchGraphRow(f);
  // 5xx without Retry-After: still retryable, the caller's backoff decides.
  const graphMessage = f.message ? `: ${f.message.slice(0, MAX_GRAPH_MESSAGE_CHARS)}` : '';
  const codePart = f.code ? `${f.code}` : `HTTP ${f.status}`;
  const graph = {
    status: f.status,
    ...(f.code ? { code: f.code } : {}),
    ...(f.requestId ? { requestId: f.requestId } : {}),
  };
  return new BridgeError(row.to, {
    detail: `${row.why} (${codePart}${graphMessage})`,
    graph,
    ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
  });
}

/**
 * Error codes of a failed connection that prove the request never reached the server: retrying cannot
 * duplicate anything. Everything else (reset, closed socket, timeout) may have happened after Graph read
 * the request.
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_INVALID_URL',
]);

/** The error code somewhere in the cause chain of a fetch failure (undici wraps the socket error). */
export function transportErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === 'string') return o.code;
    if (o.name === 'TimeoutError' || o.name === 'AbortError') return o.name;
    e = o.cause;
  }
  return undefined;
}

/**
 * A request that got no HTTP answer. `sending` marks the non-idempotent POSTs that deliver mail (sendMail,
 * /send): once such a request may have left, a lost answer means nobody knows whether mail went out, and
 * retrying could send it twice — so it becomes GRAPH_OUTCOME_UNKNOWN instead of a retryable error.
 */
export function classifyTransportError(err: unknown, opts: { sending: boolean }): BridgeError {
  const code = transportErrorCode(err) ?? 'UNKNOWN';
  const neverSent = NEVER_SENT_CODES.has(code);
  if (opts.sending && !neverSent) {
    return new BridgeError('GRAPH_OUTCOME_UNKNOWN', {
      cause: err,
      detail: `no answer from Graph after the send request left (${code})`,
    });
  }
  return new BridgeError('GRAPH_UNAVAILABLE', {
    cause: err,
    detail: neverSent ? `could not reach Graph (${code})` : `connection to Graph failed (${code})`,
  });
}

/**
 * @azure/identity failures (AuthenticationError with the AADSTS answer, CredentialUnavailableError, …).
 * Only the error name, the OAuth error and the AADSTS number go into the detail: they identify the cause
 * (AADSTS7000215 = wrong secret, AADSTS700016 = unknown app) without echoing anything secret.
 */
export function classifyCredentialError(err: unknown): BridgeError {
  if (err instanceof BridgeError) return err;
  const e = (err ?? {}) as { name?: unknown; message?: unknown; errorResponse?: { error?: unknown } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  const oauthError = typeof e.errorResponse?.error === 'string' ? ` ${e.errorResponse.error}` : '';
  const aadsts = /AADSTS\d+/.exec(message)?.[0];
  const hint = /endpoints_resolution_error|discovery/i.test(message)
    ? ' (authority metadata unreachable: check AZURE_AUTHORITY_HOST)'
    : '';
  return new BridgeError('GRAPH_TOKEN_FAILED', {
    cause: err,
    detail: `${name}${oauthError}${aadsts ? ` ${aadsts}` : ''}${hint}`,
  });
}
