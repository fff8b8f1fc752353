/**
 * The one error type of the bridge, and the one table where error codes are chosen.
 *
 * Every failure a user can see — an SMTP reply on a copier's panel, a JSON answer from the function, a row on
 * the status page, a log line — is a BridgeError built from a row of ERROR_TABLE. The table is the reviewable
 * list of what can go wrong (like smtp-server's status map and zone-mta's bounces.txt); docs/error-codes.md is
 * generated from it.
 *
 * Invariant (tested on every row): retryable ⇔ the SMTP reply is 4xx.
 */

export interface ErrorRow {
  /** SMTP basic reply code (RFC 5321 §4.2). */
  readonly reply: number;
  /** Enhanced status code (RFC 3463). */
  readonly enhanced: string;
  /** Whether trying again later can succeed. Only non-retryable errors may end a message as failed. */
  readonly retryable: boolean;
  /** The caller's or the admin's input is at fault (logged at warn), not the bridge (logged at error). */
  readonly userError: boolean;
  /** HTTP status the function answers with. */
  readonly httpStatus: number;
  /** Short text for the SMTP reply and the status page. No user data. */
  readonly message: string;
  /** What an admin can do about it. */
  readonly hint: string;
}

const row = (
  reply: number,
  enhanced: string,
  httpStatus: number,
  userError: boolean,
  message: string,
  hint: string,
): ErrorRow => ({
  reply,
  enhanced,
  retryable: reply >= 400 && reply < 500,
  userError,
  httpStatus,
  message,
  hint,
});

export const ERROR_TABLE = {
  // ── Message content and envelope (the sender's input) ────────────────────────────────────────────────
  MESSAGE_TOO_LARGE: row(
    552,
    '5.3.4',
    413,
    true,
    'Message too large',
    'Lower the scan resolution or split the job; the limit is BRIDGE_MAX_MESSAGE_BYTES (Exchange Online allows at most 150 MB, 35 MB by default per mailbox).',
  ),
  MIME_UNPARSEABLE: row(
    554,
    '5.6.0',
    422,
    true,
    'Message could not be parsed as MIME',
    'The device sent content that is not a valid e-mail message; check its firmware or e-mail settings.',
  ),
  NO_RECIPIENTS: row(
    554,
    '5.5.1',
    422,
    true,
    'No valid recipients',
    'The SMTP envelope named no recipient the bridge can deliver to.',
  ),
  TOO_MANY_RECIPIENTS: row(
    550,
    '5.5.3',
    422,
    true,
    'Too many recipients',
    'Exchange Online accepts at most 500 recipients per message; split the distribution.',
  ),
  RECIPIENT_INVALID: row(
    550,
    '5.1.3',
    422,
    true,
    'Recipient address is not valid',
    'Correct the address in the device address book.',
  ),
  SENDER_NOT_ALLOWED: row(
    550,
    '5.7.1',
    422,
    true,
    'Sender not allowed',
    'Add the From address to BRIDGE_ALLOWED_SENDERS, or set BRIDGE_DEFAULT_SENDER so the bridge sends as a mailbox it may use.',
  ),
  SUSPECTED_SMUGGLING: row(
    554,
    '5.6.0',
    422,
    true,
    'Bare CR or LF next to a dot in message data',
    'The client sent an ambiguous end-of-data sequence (SMTP smuggling pattern); fix the client or the hop in front of the bridge.',
  ),
  BARE_CR: row(
    554,
    '5.6.0',
    422,
    true,
    'Bare CR in message data',
    'The client sent a carriage return without line feed, which relays may treat as a line break.',
  ),
  SMTPUTF8_REQUIRED: row(
    553,
    '5.6.7',
    422,
    true,
    'Non-ASCII address without SMTPUTF8',
    'The device sent an international address without announcing SMTPUTF8 (RFC 6531); use an ASCII address or update the firmware.',
  ),
  DEVICE_SENDER_NOT_BOUND: row(
    550,
    '5.7.1',
    422,
    true,
    'This device may not send as this From address',
    "The From address is not among the senders this device (AUTH user or client address) is bound to in BRIDGE_SENDER_BINDINGS of the edge listener: fix the device's From, or add the address to its binding.",
  ),
  ENVELOPE_SENDER_NOT_ALLOWED: row(
    550,
    '5.7.1',
    422,
    true,
    'Envelope sender not allowed at this listener',
    'Add the MAIL FROM address (or *@domain) to BRIDGE_SMTP_ALLOWED_SENDERS of the edge listener.',
  ),

  // ── SMTP intake on site ─────────────────────────────────────────────────────────────────────────────
  CLIENT_NOT_ALLOWED: row(
    554,
    '5.7.1',
    403,
    true,
    'Client address not allowed',
    'Add the device address to BRIDGE_ALLOWED_CLIENTS (CIDR list).',
  ),
  CLIENT_RATE_LIMITED: row(
    421,
    '4.7.0',
    429,
    true,
    'Too many connections or failed logins from this address',
    'Wait, or check the device for a login loop; limits are per client IP.',
  ),
  SMTP_AUTH_REQUIRED: row(
    530,
    '5.7.0',
    401,
    true,
    'Authentication required',
    'Configure SMTP AUTH (user name and password) on the device.',
  ),
  SMTP_AUTH_FAILED: row(
    535,
    '5.7.8',
    401,
    true,
    'Authentication credentials invalid',
    'Check the user name and password on the device; some devices truncate long passwords.',
  ),
  SPOOL_WRITE_FAILED: row(
    451,
    '4.3.0',
    503,
    false,
    'Could not store the message',
    'Check the spool directory (BRIDGE_DATA_DIR): permissions and disk health.',
  ),
  SPOOL_FULL: row(
    452,
    '4.3.1',
    507,
    false,
    'Spool is full',
    'Free disk space under BRIDGE_DATA_DIR or raise the spool quota; the device will retry.',
  ),
  SPOOL_IN_USE: row(
    451,
    '4.3.0',
    503,
    false,
    'The spool is in use by another listener process',
    'Only one listener may use a BRIDGE_DATA_DIR: stop the other process, or act through the running listener (its status page or CLI).',
  ),
  MESSAGE_EXPIRED: row(
    554,
    '5.4.7',
    422,
    false,
    'Delivery time expired',
    'The message could not be delivered within BRIDGE_MAX_QUEUE_AGE_MS (the horizon, default 5 days); see its last error for the cause. The body is kept for BRIDGE_RETENTION_MS and can be resubmitted.',
  ),

  // ── Edge → function hop ──────────────────────────────────────────────────────────────────────────────
  SITE_UNKNOWN: row(
    451,
    '4.7.0',
    401,
    true,
    'Site is not known to the function',
    'Register the site (`npm run admin -- site add`, docs/multi-tenant.md) or put its id and secret in the function configuration (BRIDGE_SITES, BRIDGE_SITE_SECRETS).',
  ),
  SITE_SIGNATURE_INVALID: row(
    451,
    '4.7.0',
    401,
    true,
    'Site signature invalid',
    'The site secret differs between the edge listener and the function; copy it again.',
  ),
  REQUEST_STALE: row(
    451,
    '4.7.0',
    401,
    true,
    'Request timestamp outside the allowed window',
    'Check the clock of the edge machine (NTP); requests older than a few minutes are refused as replays.',
  ),
  WIRE_MALFORMED: row(
    451,
    '4.3.0',
    400,
    false,
    'Malformed request from the edge listener',
    'The edge listener and the function may run incompatible versions; update both.',
  ),
  BODY_DIGEST_MISMATCH: row(
    451,
    '4.3.0',
    400,
    false,
    'Request body does not match its digest',
    'The message was altered or truncated in transit; it will be sent again.',
  ),
  MESSAGE_NOT_FOUND: row(
    451,
    '4.3.0',
    404,
    false,
    'The function has no record of this message id for this site',
    'The message has not reached the function yet, or another site sent it; the edge will ask again.',
  ),
  RESUBMIT_MAY_DUPLICATE: row(
    554,
    '5.3.0',
    409,
    true,
    'The outcome of this message is unknown; sending it again may deliver it twice',
    'Look in the sender mailbox Sent Items first; to send it again anyway, confirm (CLI: queue retry --force; status page: confirm).',
  ),
  MESSAGE_IN_PROGRESS: row(
    451,
    '4.3.0',
    409,
    false,
    'This message is already being processed',
    'A previous attempt is still running; the edge will ask again.',
  ),
  FUNCTION_UNREACHABLE: row(
    451,
    '4.4.1',
    503,
    false,
    'Function not reachable',
    'Check BRIDGE_FUNCTION_URL, DNS, the firewall and the function key.',
  ),
  FUNCTION_BAD_RESPONSE: row(
    451,
    '4.3.0',
    502,
    false,
    'Unreadable answer from the function',
    'The function URL may point at something else (a proxy or login page); check BRIDGE_FUNCTION_URL.',
  ),

  // ── Microsoft Graph ──────────────────────────────────────────────────────────────────────────────────
  GRAPH_TOKEN_FAILED: row(
    451,
    '4.7.0',
    503,
    true,
    'Could not obtain a Microsoft Graph token',
    'Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the client secret or certificate (expired secrets are the usual cause).',
  ),
  GRAPH_ACCESS_DENIED: row(
    451,
    '4.7.0',
    503,
    true,
    'The app may not send as this mailbox',
    'Grant admin consent for Mail.Send, or add the mailbox to the Exchange RBAC for Applications scope (Test-ServicePrincipalAuthorization shows which).',
  ),
  GRAPH_SEND_AS_DENIED: row(
    451,
    '4.7.0',
    503,
    true,
    'The sending mailbox may not send as the From address',
    'Give the sending mailbox Send As rights on the From address, or add the From address to BRIDGE_ALLOWED_SENDERS.',
  ),
  GRAPH_MAILBOX_NOT_FOUND: row(
    550,
    '5.1.1',
    422,
    true,
    'Sending mailbox not found or not enabled',
    'The mailbox does not exist, has no Exchange Online licence, is soft-deleted or is on-premises.',
  ),
  GRAPH_INVALID_RECIPIENTS: row(
    550,
    '5.1.3',
    422,
    true,
    'Microsoft Graph refused the recipients',
    'Check the recipient addresses.',
  ),
  GRAPH_PAYLOAD_TOO_LARGE: row(
    552,
    '5.3.4',
    413,
    true,
    'Microsoft 365 refused the message size',
    'The mailbox message size limit is lower than the message; raise MaxSendSize on the mailbox (up to 150 MB).',
  ),
  GRAPH_REJECTED: row(
    554,
    '5.6.0',
    422,
    true,
    'Microsoft Graph rejected the message',
    'See the Graph error code and request id for details.',
  ),
  GRAPH_THROTTLED: row(
    451,
    '4.4.5',
    429,
    false,
    'Microsoft Graph is throttling this mailbox',
    'Exchange allows 30 messages a minute and 4 concurrent requests per mailbox; the message will be retried.',
  ),
  GRAPH_UNAVAILABLE: row(
    451,
    '4.4.1',
    503,
    false,
    'Microsoft Graph is unavailable',
    'A transient network or service failure; the message will be retried.',
  ),
  GRAPH_OUTCOME_UNKNOWN: row(
    554,
    '5.4.0',
    422,
    false,
    'Microsoft Graph may or may not have sent the message',
    "Graph's answer was lost and the bridge could not look in the sender's Sent Items itself (no read permission, BRIDGE_SAVE_TO_SENT_ITEMS off, or not before the horizon): the body is kept; search Sent Items for the internetMessageId in the detail, and resubmit with --force only if it is not there.",
  ),

  // ── Tenants, sites and the admin API (functions/tenants/, docs/multi-tenant.md) ─────────────────────────
  TENANT_CONSENT_REVOKED: row(
    451,
    '4.7.0',
    503,
    false,
    'The customer tenant has withdrawn the consent of the bridge',
    'The message is held, not failed. The customer admin consents again (docs/multi-tenant.md "Consent came back"); delivery then resumes by itself. `npm run admin -- tenant show` says when and why.',
  ),
  SITE_DISABLED: row(
    451,
    '4.7.1',
    403,
    true,
    'The site is disabled',
    'A provider disabled the site (`npm run admin -- site show`); the edge keeps its messages until the site is enabled again.',
  ),
  SITE_RATE_LIMITED: row(
    451,
    '4.7.0',
    429,
    false,
    'The site is over its message rate',
    'The site sends more messages a minute than its per-site limit; the edge retries after Retry-After. Raise it with `npm run admin -- site add --rate-per-minute` if it is expected.',
  ),
  ADMIN_UNAUTHORIZED: row(
    554,
    '5.7.1',
    401,
    true,
    'Admin key missing or wrong',
    'Send the admin key (Key Vault secret bridge-admin-key) as `Authorization: Bearer …`; the CLI reads BRIDGE_ADMIN_KEY.',
  ),
  ADMIN_DISABLED: row(
    554,
    '5.7.1',
    404,
    true,
    'The admin API is not enabled',
    'Set BRIDGE_ADMIN_KEY (a Key Vault reference, at least 32 characters) to enable /api/v1/admin.',
  ),
  ADMIN_REQUEST_INVALID: row(
    554,
    '5.5.4',
    400,
    true,
    'Invalid admin request',
    'The detail names the field; `npm run admin -- <command> --help` lists the options.',
  ),
  ADMIN_NOT_FOUND: row(
    554,
    '5.1.0',
    404,
    true,
    'No such tenant or site',
    'List them with `npm run admin -- tenant list` or `site list`.',
  ),

  // ── Function-side storage and everything else ─────────────────────────────────────────────────────────
  STORAGE_UNAVAILABLE: row(
    451,
    '4.3.0',
    503,
    false,
    'Cloud storage unavailable',
    'Azure Storage (tables, blobs or queues) did not answer; check the function identity roles and the storage account.',
  ),
  CONFIG_INVALID: row(
    451,
    '4.3.5',
    503,
    false,
    'Bridge configuration is invalid',
    'Run the config check (edge: `config check`, function: GET /api/health) and fix what it lists.',
  ),
  QUEUED_COPY_MISSING: row(
    554,
    '5.3.0',
    422,
    false,
    'The stored copy of a queued message is gone',
    'Blob Storage no longer holds the queued message (deleted by hand or by a lifecycle rule on BRIDGE_BLOB_CONTAINER); the device must send it again.',
  ),
  INTERNAL: row(
    451,
    '4.3.0',
    500,
    false,
    'Internal error',
    'An unexpected failure; the message is kept and retried. Report it with the log line.',
  ),
} as const satisfies Record<string, ErrorRow>;

export type BridgeErrorCode = keyof typeof ERROR_TABLE;

export function isBridgeErrorCode(code: unknown): code is BridgeErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code);
}

export interface GraphErrorInfo {
  status: number;
  code?: string;
  requestId?: string;
}

export interface BridgeErrorOptions {
  cause?: unknown;
  /** Extra detail for the reply text and the status page; must not contain message content or secrets. */
  detail?: string;
  graph?: GraphErrorInfo;
  retryAfterMs?: number;
}

export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  readonly smtp: { readonly reply: number; readonly enhanced: string };
  readonly retryable: boolean;
  readonly userError: boolean;
  readonly httpStatus: number;
  readonly hint: string;
  readonly detail?: string;
  readonly graph?: GraphErrorInfo;
  readonly retryAfterMs?: number;

  constructor(code: BridgeErrorCode, options: BridgeErrorOptions = {}) {
    const r: ErrorRow = ERROR_TABLE[code];
    super(options.detail ? `${r.message}: ${options.detail}` : r.message, { cause: options.cause });
    this.name = 'BridgeError';
    this.code = code;
    this.smtp = { reply: r.reply, enhanced: r.enhanced };
    this.retryable = r.retryable;
    this.userError = r.userError;
    this.httpStatus = r.httpStatus;
    this.hint = r.hint;
    if (options.detail !== undefined) this.detail = options.detail;
    if (options.graph !== undefined) this.graph = options.graph;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** smtp-server reads `responseCode` from an error passed to a hook callback. */
  get responseCode(): number {
    return this.smtp.reply;
  }

  /** The SMTP reply text: enhanced code, our code, the message and, when known, our id so users can quote it. */
  smtpText(id?: string): string {
    const suffix = id ? ` (id ${id})` : '';
    return `${this.smtp.enhanced} ${this.code} ${this.message}${suffix}`;
  }

  toJSON(): SerializedBridgeError {
    return serializeBridgeError(this);
  }
}

/** The JSON form that crosses process boundaries (function → edge, state records, status page). */
export interface SerializedBridgeError {
  code: BridgeErrorCode;
  message: string;
  smtp: { reply: number; enhanced: string };
  retryable: boolean;
  hint: string;
  detail?: string;
  graph?: GraphErrorInfo;
  retryAfterMs?: number;
}

export function serializeBridgeError(e: BridgeError): SerializedBridgeError {
  const out: SerializedBridgeError = {
    code: e.code,
    message: e.message,
    smtp: { reply: e.smtp.reply, enhanced: e.smtp.enhanced },
    retryable: e.retryable,
    hint: e.hint,
  };
  if (e.detail !== undefined) out.detail = e.detail;
  if (e.graph !== undefined) out.graph = e.graph;
  if (e.retryAfterMs !== undefined) out.retryAfterMs = e.retryAfterMs;
  return out;
}

/** Rebuilds a BridgeError from its JSON form; an unknown code becomes INTERNAL (retryable: keep the mail). */
export function deserializeBridgeError(value: unknown): BridgeError {
  const v = (value ?? {}) as Partial<SerializedBridgeError>;
  const code = isBridgeErrorCode(v.code) ? v.code : 'INTERNAL';
  const opts: BridgeErrorOptions = {};
  if (typeof v.detail === 'string') opts.detail = v.detail;
  if (v.graph && typeof v.graph.status === 'number') opts.graph = v.graph;
  if (typeof v.retryAfterMs === 'number') opts.retryAfterMs = v.retryAfterMs;
  return new BridgeError(code, opts);
}

export function bridgeError(code: BridgeErrorCode, options?: BridgeErrorOptions): BridgeError {
  return new BridgeError(code, options);
}

/** Normalises anything thrown at a boundary; unknown errors become INTERNAL, which is retryable. */
export function toBridgeError(err: unknown): BridgeError {
  if (err instanceof BridgeError) return err;
  return new BridgeError('INTERNAL', { cause: err });
}
