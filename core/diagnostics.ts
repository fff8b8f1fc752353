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
 * It never sends mail. Per mailbox it makes a `sendMail` request WITHOUT recipients: Exchange checks the
 * app's permission, the mailbox (exists, licensed) and the RBAC scope, then refuses the message with
 * ErrorInvalidRecipients — the sign that sending would have been allowed (functions/http/mailbox-probes.ts). When the token carries
 * no Mail.ReadWrite and the function accepts messages too large for one request, it also creates and
 * deletes an empty draft, which proves Mail.ReadWrite granted through Exchange RBAC for Applications.
 */
export const DIAGNOSTICS_PATH = '/api/v1/diagnostics';
/** Mailboxes one request checks at most, configured and asked-for together (each costs one to three Graph requests). */
export const MAX_DIAGNOSED_MAILBOXES = 10;
/** Prefix of the nonce in the message-id header (it must match MESSAGE_ID_PATTERN). */
export const DIAGNOSTICS_NONCE_PREFIX = 'doctor-';

export type ProbeResult = { ok: true; note?: string } | { ok: false; error: SerializedBridgeError };

export interface MailboxDiagnosis {
  address: string;
  /** Why it was checked: the site's default sender, an exact entry of its allow-list, or asked for. */
  role: 'default-sender' | 'allowed-sender' | 'requested';
  /** Whether the site's sender policy lets devices send as it (the default sender always sends). */
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
  token:
    | { ok: true; roles: string[]; appId?: string; tenantId?: string; expiresOn: string }
    | { ok: false; error: SerializedBridgeError };
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
  /** BRIDGE_SAVE_TO_SENT_ITEMS: without Sent Items copies a lost Graph answer cannot be resolved. */
  saveToSentItems?: boolean;
  /** The deployment's declared permission model (BRIDGE_MAIL_PERMISSION_MODEL), when set. */
  permissionModel?: MailPermissionModel;
  /** Where Mail.Send / Mail.ReadWrite come from for each probed mailbox (core/mail-grants.ts). */
  grants?: MailboxGrant[];
  /** Set when a tenant-wide role makes the declared Exchange RBAC scope moot. */
  grantOverlap?: GrantOverlap;
}
