import type { SerializedBridgeError } from './errors';
import type { GrantOverlap, MailboxGrant, MailPermissionModel } from './mail-grants';

/**
 * The contract of the function's diagnostics route, which `doctor` on the edge calls to learn what only the
 * cloud side can know: whether the site's signature is accepted, whether the function gets a Graph token and
 * which application permissions it carries, and whether each sender mailbox of the site may be sent as.
 *
 * Request: `GET /api/v1/diagnostics[?mailbox=a@b&mailbox=…]`, function key plus the site signature of
 * core/wire.ts over an empty body (EMPTY_SHA256), with a fresh `doctor-…` nonce in the message-id header.
 * Answer: 200 with a DiagnosticsReport (problems are inside it), or the WireResult error of a refused request
 * (401 SITE_UNKNOWN / SITE_SIGNATURE_INVALID / REQUEST_STALE, 503 CONFIG_INVALID).
 *
 * Only mailboxes the site may send as are probed: its default sender and the addresses its sender policy
 * allows (with a `*` policy, any address of its tenant — the site could send as it anyway). Other requested
 * addresses are listed in `refused`, never probed, so the route is no oracle for mailboxes or RBAC scopes
 * outside the site's own.
 *
 * It never sends mail. Per mailbox it makes a `sendMail` request WITHOUT recipients: Exchange checks the
 * app's permission, the mailbox (exists, licensed) and the RBAC scope, then refuses the message with
 * ErrorInvalidRecipients — the sign that sending would have been allowed (functions/http/mailbox-probes.ts). When the token carries
 * no Mail.ReadWrite and the function accepts messages too large for one request, it also creates and
 * deletes an empty draft, which proves Mail.ReadWrite granted through Exchange RBAC for Applications.
 */
export const DIAGNOSTICS_PATH = '/api/v1/diagnostics';

/**
 * GET /api/health/deep: the function key plus the site signature (as the diagnostics request: empty body, a
 * `doctor-…` nonce), answered for the calling site only — its tenant's token and roles, its sender
 * mailboxes, storage. At most one probe per site per DEEP_HEALTH_INTERVAL_MS on each instance; in between
 * the last answer comes back with `reused: true` (functions/http/probe-cache.ts).
 */
export const DEEP_HEALTH_PATH = '/api/health/deep';
export const DEEP_HEALTH_INTERVAL_MS = 60_000;
/** Mailboxes one request checks at most, configured and asked-for together (each costs one to three Graph requests). */
export const MAX_DIAGNOSED_MAILBOXES = 10;
/** Prefix of the nonce in the message-id header (it must match MESSAGE_ID_PATTERN). */
export const DIAGNOSTICS_NONCE_PREFIX = 'doctor-';

export type ProbeResult = { ok: true; note?: string } | { ok: false; error: SerializedBridgeError };

export interface MailboxDiagnosis {
  address: string;
  /** Why it was checked: the site's default sender, an exact entry of its allow-list, or asked for. */
  role: 'default-sender' | 'allowed-sender' | 'requested';
  /** Whether the site's sender policy lets devices send as it (the default sender always sends). Always true for a requested address: others are refused, not probed. */
  allowedByPolicy: boolean;
  /** Mail.Send: may the app send as this mailbox (sendMail without recipients). */
  send: ProbeResult;
  /** Mail.ReadWrite (large messages): present only when the function probed it with a draft. */
  draft?: ProbeResult;
  /**
   * Read access to Sent Items (Mail.ReadBasic or better), which resolves lost Graph answers
   * (docs/design/custody.md): a look-up for an id that cannot exist. Present only when the function probed it
   * (the token carries no read role and the mailbox accepted the app).
   */
  sentItems?: ProbeResult;
}

/**
 * What a Graph access token says about the app, read from its claims (never the token itself): the
 * application permissions granted in the token's tenant, the tenant and app ids, and when it expires. The
 * function reports it in the diagnostics and the deep health; `doctor` reads it.
 */
export interface TokenFacts {
  /** Application permissions (roles claim), sorted, e.g. Mail.ReadWrite, Mail.Send. */
  roles: string[];
  appId?: string;
  tenantId?: string;
  /** Object id of the app's service principal in the token's tenant (the token's oid). */
  objectId?: string;
  /** ISO 8601. */
  expiresOn: string;
}

export interface DiagnosticsReport {
  site: string;
  time: string;
  /** The app registration as the function is configured (ids are not secrets; no credential is ever returned). */
  app: {
    clientId?: string;
    /** Tenant whose mailboxes this site sends from (the site's tenantId, else the home tenant). */
    tenantId?: string;
    authorityHost: string;
    /** client-secret, client-certificate, workload-identity, or none. */
    credential: string;
  };
  storage: ProbeResult;
  token: ({ ok: true } & TokenFacts) | { ok: false; error: SerializedBridgeError };
  policy: {
    allowedSenders: string[];
    defaultSender?: string;
  };
  /** Largest message the function accepts, and the largest that fits one Graph request (above it: drafts). */
  maxMessageBytes: number;
  singleRequestMaxBytes: number;
  mailboxes: MailboxDiagnosis[];
  /** Addresses beyond MAX_DIAGNOSED_MAILBOXES, not checked. */
  unchecked: string[];
  /** Requested addresses the site may not send as: not probed. */
  refused?: string[];
  /** BRIDGE_SAVE_TO_SENT_ITEMS: without Sent Items copies a lost Graph answer cannot be resolved. */
  saveToSentItems?: boolean;
  /** The deployment's declared permission model (BRIDGE_MAIL_PERMISSION_MODEL), when set. */
  permissionModel?: MailPermissionModel;
  /** Where Mail.Send / Mail.ReadWrite come from for each probed mailbox (core/mail-grants.ts). */
  grants?: MailboxGrant[];
  /** Set when a tenant-wide role makes the declared Exchange RBAC scope moot. */
  grantOverlap?: GrantOverlap;
}
