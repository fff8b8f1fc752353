/**
 * The logging interface both sides use: a pino-compatible subset, so the edge passes a pino logger and the
 * function adapts InvocationContext to it. Every operational line carries a stable `event` code listed in
 * LOG_EVENTS (docs/log-events.md is generated from it).
 *
 * Never put message bodies, AUTH data, secrets or tokens in a log object. `redactPaths` lists the keys pino
 * removes anyway, as a second line of defence.
 */
/** Logging levels, lowest first; BRIDGE_LOG_LEVEL on both sides names the lowest one logged. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(obj: LogFields, msg?: string): void;
  info(obj: LogFields, msg?: string): void;
  warn(obj: LogFields, msg?: string): void;
  error(obj: LogFields, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LogFields {
  event: LogEvent;
  [key: string]: unknown;
}

export const LOG_EVENTS = {
  // function
  REQUEST_REJECTED: 'A request to the function was refused before processing (auth, size, framing).',
  SIGNATURE_OUTDATED:
    'A site signed with the SGB/1 scheme (edge older than SGB/2): accepted for one release on requests without a query; logged once per site and instance. Upgrade that edge.',
  MESSAGE_RECEIVED: 'The function recorded a new message id.',
  MESSAGE_REPLAYED: 'A repeated message id was answered from its recorded outcome; nothing was sent again.',
  MESSAGE_SENT: 'Microsoft Graph accepted the message (202).',
  MESSAGE_QUEUED: 'The message was stored in Blob Storage and queued for the queue-triggered sender.',
  MESSAGE_DEFERRED: 'A transient failure; the message will be retried.',
  MESSAGE_FAILED: 'A permanent failure; the message ends failed with its reason.',
  MESSAGE_REJECTED: 'The message was refused permanently before sending (policy, content).',
  MESSAGE_OUTCOME_UNKNOWN:
    "Graph's answer to a delivering call was lost; the message is queued for a look in the sender's Sent Items, not sent again blindly.",
  MESSAGE_RECONCILED:
    "The sender's Sent Items were searched for a message whose answer was lost (found: it was sent; not found after the window: it is sent again).",
  SENDER_REWRITTEN: 'The From address is not allowed; the default sender mailbox sends with Reply-To set.',
  GRAPH_REQUEST:
    'One request to Microsoft Graph finished (method, path shape, status, request id, duration).',
  GRAPH_UPLOAD_CHUNK_RETRY: 'An upload-session chunk failed and is retried on its own.',
  GRAPH_DRAFT_DISCARDED:
    'A large-message send failed before /send; its draft was deleted (status 0: the delete failed too).',
  SANDBOX_MESSAGE_KEPT: 'The Graph sandbox accepted a message and kept it instead of sending it.',
  SANDBOX_MESSAGES_LOADED:
    'The Graph sandbox started and listed again the kept messages of its data directory (newest first, within its memory bounds).',
  SANDBOX_MESSAGE_SKIPPED:
    'A kept-message folder of the Graph sandbox is incomplete or unreadable; it is not listed, and left on disk untouched.',
  SANDBOX_REQUEST_REFUSED:
    'The Graph sandbox refused a request the way Graph would (status and Graph error code).',
  TOKEN_ACQUIRED: 'A Microsoft Graph token was acquired (never the token itself).',
  TOKEN_FAILED: 'A Microsoft Graph token could not be acquired.',
  MESSAGE_REQUEUED:
    'A queued message waits again: its sender mailbox is at its pacing limit, or another attempt is still running.',
  QUEUE_POISON:
    'A queue item is unusable (not a message pointer), or a queued message could not be put back on the queue after its last dequeue (it goes to the poison queue; its body and record stay).',
  TENANT_STATE_CHANGED:
    "A tenant's consent state changed (consented, revoked with its AADSTS code, restored); messages of a revoked tenant are held.",
  MESSAGE_HELD:
    'A message waits because its tenant withdrew consent; it is retried when a token works again (never failed for it).',
  ADMIN_API:
    'A change through the admin API (tenant or site added, removed, disabled, secret rotated; never a secret).',
  CONSENT_CALLBACK:
    'An admin-consent answer reached /api/v1/consent/callback (outcome, tenant, never a token).',
  HEALTH_CHECK: 'A health check ran.',
  CONFIG_INVALID: 'Configuration is invalid; every problem is listed.',
  HOST_STARTED: 'A local host process started listening.',
  HOST_STOPPED: 'A local host process stopped.',
  // edge listener
  SMTP_CONNECTION: 'An SMTP client connected.',
  SMTP_CONNECTION_REFUSED: 'An SMTP client was refused (allow-list or rate limit).',
  SMTP_AUTH_FAILED: 'An SMTP AUTH attempt failed (the user name is logged, never the password).',
  SMTP_MESSAGE_REFUSED: 'An SMTP transaction was refused (size, recipients, sender, content).',
  SMTP_ERROR: 'A protocol or socket error in an SMTP session.',
  SPOOL_STORED:
    'A message is durably in the spool. `reply`: `held` (the SMTP reply waits for the function, up to BRIDGE_FORWARD_BUDGET_MS) or `commit` (250 queued now; forwarding continues behind it); `why`: the reply-hold reason (route-new, route-failed, always, route-proven, mailbox-paced, backlog, never).',
  SPOOL_WRITE_FAILED: 'A message could not be stored; the client got a 4xx.',
  SPOOL_QUARANTINED: 'A corrupt spool entry was moved to quarantine (never deleted).',
  SPOOL_FULL: 'The spool is over its quota or the disk is full.',
  FORWARD_ATTEMPT: 'The forwarder posted a spooled message to the function.',
  FORWARD_RESULT: 'The outcome of one forward attempt.',
  FORWARD_WORKER_STOPPED:
    'The forwarding thread stopped unexpectedly; its POSTs in flight are retried and the next one starts it again.',
  ADMIN_ACTION: 'An admin retried or deleted a message (CLI or status page).',
  ADMIN_PROXY_HEADER:
    'The status page was reached through a proxy (Forwarded / X-Forwarded-* / Via header) while BRIDGE_ADMIN_LOOPBACK_TRUST is on; turn it off behind a proxy.',
  SMTP_TRACE:
    'A protocol trace line from smtp-server (only with BRIDGE_LOG_SMTP_TRACE; AUTH data is masked, message data never logged).',
  TLS_HANDSHAKE_FAILED:
    'A client failed the TLS handshake (often an old device that needs BRIDGE_TLS_LEGACY).',
  SPOOL_RECOVERED:
    'The spool was scanned at start: entries resumed, leftovers of interrupted writes removed, corrupt entries quarantined.',
  SPOOL_PRUNED: 'Old records of finished messages were removed from the spool history.',
  SPOOL_RETENTION_EXPIRED:
    'A failed message (body kept for an admin) reached the end of its retention (BRIDGE_RETENTION_MS) and was removed.',
  CLOUD_STATE_CHECKED:
    'The edge read the cloud state of a message the function had queued (it keeps the body until the cloud says sent or failed).',
} as const;

export type LogEvent = keyof typeof LOG_EVENTS;

/** Keys whose values are never logged, at any depth pino checks. */
export const REDACT_PATHS = [
  'password',
  'pass',
  'secret',
  'token',
  'accessToken',
  'authorization',
  'headers.authorization',
  'headers["x-functions-key"]',
  'headers["x-bridge-signature"]',
  'body',
  'mime',
  'clientSecret',
  'siteSecret',
  '*.password',
  '*.pass',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.authorization',
  '*.body',
  '*.mime',
  '*.clientSecret',
  '*.siteSecret',
];

/** A logger that drops everything (library default). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** A logger that keeps lines in memory — for tests that assert on events and on what is never logged. */
export function memoryLogger(lines: Array<Record<string, unknown>> = []): Logger & { lines: typeof lines } {
  const make = (bindings: Record<string, unknown>): Logger & { lines: typeof lines } => {
    const write = (level: string) => (obj: LogFields, msg?: string) => {
      lines.push({ level, ...bindings, ...obj, ...(msg === undefined ? {} : { msg }) });
    };
    return {
      lines,
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return make({});
}
