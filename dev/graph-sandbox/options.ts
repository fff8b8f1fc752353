import type { Logger } from '../../core/log';

/** The requests the sandbox knows, by name (for faults and the request log). */
export type SandboxRoute =
  | 'openid'
  | 'jwks'
  | 'token'
  | 'sendMail'
  | 'createMessage'
  | 'deleteMessage'
  | 'addAttachment'
  | 'createUploadSession'
  | 'uploadChunk'
  | 'uploadStatus'
  | 'uploadCancel'
  | 'send'
  | 'getUser'
  | 'listMessages'
  | 'admin'
  | 'adminConsent'
  | 'unknown';

/** An app registration the token endpoint knows. Without `clients`, any client id and secret is accepted. */
export interface SandboxClient {
  clientId: string;
  /** Accepted client secret. */
  secret?: string;
  /** PEM certificate whose key signs client assertions (ClientCertificateCredential). */
  certificatePem?: string;
  /** Subjects (managed identity principal ids) of federated credentials accepted as client assertion. */
  federatedSubjects?: string[];
}

/** A mailbox the sandbox knows. */
export interface SandboxMailbox {
  address: string;
  /** Tenant the mailbox lives in; tokens of another tenant get 404 ErrorInvalidUser. Default: any tenant. */
  tenantId?: string;
  /** false = user without an Exchange Online licence (404 MailboxNotEnabledForRESTAPI). Default true. */
  licensed?: boolean;
  displayName?: string;
  /** Addresses this mailbox may send as besides itself (Send As rights). */
  sendAs?: string[];
}

/** The Exchange management roles of RBAC for Applications that the bridge uses (docs/design/platform-facts.md §A5). */
export type ExchangeAppRole =
  'Application Mail.Send' | 'Application Mail.ReadWrite' | 'Application Mail.ReadBasic';

/**
 * One Exchange Online RBAC for Applications role assignment (`New-ManagementRoleAssignment -App … -Role …
 * -CustomResourceScope …`). It grants the roles for the scope's mailboxes only, independent of (and added to)
 * the application permissions in the token: an app granted only this way gets tokens without Mail.* roles.
 */
export interface SandboxExchangeRbacGrant {
  /** App (client) id the assignment is for; '*' = any app. */
  clientId: string;
  /** Tenant (Exchange organisation) of the assignment; default every tenant. */
  tenantId?: string;
  /** The management scope: addresses, '*@domain', or '*' (an assignment without scope: the whole organisation). */
  mailboxes: string[];
  /** Default all three roles (what infra/scripts/Set-BridgeMailboxScope.ps1 assigns). */
  roles?: ExchangeAppRole[];
}

export interface SandboxOptions {
  /** TLS certificate and key (PEM). Clients must trust the certificate (NODE_EXTRA_CA_CERTS). */
  cert: string;
  key: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, every accepted message is also written here (one folder per message). */
  dataDir?: string;
  /** Known mailboxes; undefined = every address exists in every tenant (the `npm start` sandbox). */
  mailboxes?: Array<string | SandboxMailbox>;
  /**
   * Application access policy (RestrictAccess) on the tenant-wide token roles: a mailbox outside it answers 403
   * "Access to OData is disabled." unless an Exchange RBAC grant covers it. Undefined = no policy.
   */
  mailboxScope?: string[];
  /** Exchange RBAC for Applications role assignments; they add to the token roles, per mailbox. */
  exchangeRbac?: SandboxExchangeRbacGrant[];
  /**
   * Application permissions in issued tokens (Entra admin consent, tenant-wide). Default Mail.Send,
   * Mail.ReadWrite, User.Read.All; the default deployment (exchangeRbac) has no Mail.* role here.
   */
  roles?: string[];
  /** Per-tenant override of `roles` (consent differs per tenant). */
  tenantRoles?: Record<string, string[]>;
  /** Known app registrations (secret/certificate/federated checks); undefined = accept any client. */
  clients?: SandboxClient[];
  /** Known tenant ids; undefined = any tenant. */
  tenants?: string[];
  /**
   * Tenants where the app's service principal exists (admin consent given); the token endpoint refuses the
   * others with AADSTS7000229. Undefined = every tenant (consent not modelled). See `consent` below.
   */
  consentedTenants?: string[];
  /** Access-token lifetime. Default 3599 s. */
  tokenLifetimeSec?: number;
  /** Largest Graph request body; larger → 413. Default 4 MiB. */
  maxRequestBytes?: number;
  /** Mailbox message size limit (Exchange default 35 MB, admins raise to 150 MB). Default 35 MB. */
  maxMessageBytes?: number;
  /**
   * How long after sending a message its Sent Items copy becomes visible to a look-up by internetMessageId
   * (Exchange: seconds). Default 0.
   */
  sentItemsLagMs?: number;
  /** Concurrent requests per app and mailbox before 429 ApplicationThrottled (Exchange: 4). Default 4. */
  mailboxConcurrency?: number;
  /** Retry-After of the concurrency 429. Default 1 s. */
  throttleRetryAfterSec?: number;
  /**
   * Messages (sendMail, draft /send) a mailbox may submit in any 60 s before 429 with Retry-After
   * (Exchange: 30, docs/design/platform-facts.md §A3). Undefined = not enforced (tests that send many
   * messages at once from one mailbox rely on that); the burst benchmark sets 30.
   */
  mailboxPerMinute?: number;
  /** Messages kept in memory (oldest dropped first; disk copies stay). Default 500. */
  maxKeptMessages?: number;
  /** Bytes of MIME and attachments kept in memory (oldest dropped first). Default 512 MiB. */
  maxKeptBytes?: number;
  logger?: Logger;
}

/** Make the next matching request(s) fail. */
export interface SandboxFault {
  route: SandboxRoute | '*';
  /** Only requests for this mailbox (case-insensitive). */
  mailbox?: string;
  /** How many matching requests; default 1. */
  times?: number;
  /** Let this many matching requests through first (e.g. fail the third upload chunk); default 0. */
  after?: number;
  /**
   * respond (default): answer `status` with a Graph error body {code, message} and Retry-After.
   * hang: read the body, never answer (until the client gives up or the sandbox closes).
   * drop: read the body, then destroy the connection without an answer.
   * lose-answer: carry the request out (a sendMail or /send delivers), then destroy the connection without
   * an answer — the "carried out, answer lost" case of docs/design/custody.md.
   */
  action?: 'respond' | 'hang' | 'drop' | 'lose-answer';
  status?: number;
  code?: string;
  message?: string;
  retryAfterSec?: number;
  /** Process the request normally first (a sendMail is then kept), then answer with the fault. */
  processFirst?: boolean;
}

export interface SandboxAttachment {
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  isInline: boolean;
  contentId?: string;
  content: Buffer;
}

/** One Graph request that contributed to a kept message. */
export interface SandboxGraphRequest {
  route: SandboxRoute;
  method: string;
  path: string;
  contentType?: string;
  bytes: number;
  requestId: string;
  /** When the request's headers arrived: epoch ms with a fraction (performance.timeOrigin + now()). */
  arrivedAtMs?: number;
  /** JSON body with attachment contentBytes replaced by a note; absent for MIME and chunk uploads. */
  json?: unknown;
}

export interface SandboxMessage {
  id: string;
  receivedAt: string;
  mailbox: string;
  tenantId?: string;
  appId?: string;
  /** sendMail = one request; draft = draft + attachments/upload sessions + send. */
  via: 'sendMail' | 'draft';
  /** json = Graph message resource; mime = base64 MIME submitted as text/plain. */
  format: 'json' | 'mime';
  subject: string;
  from?: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  saveToSentItems: boolean;
  body: { contentType: 'text' | 'html'; content: string };
  attachments: SandboxAttachment[];
  requests: SandboxGraphRequest[];
  /** The submitted MIME (format mime). */
  mime?: Buffer;
  /** Folder on disk (when the sandbox has a dataDir). */
  dir?: string;
  /** The message as RFC 5322 (the submitted MIME, or rebuilt from the Graph JSON with nodemailer). */
  eml(): Promise<Buffer>;
}

/** Every request the sandbox saw (for tests and the status page). */
export interface SandboxRequestLog {
  at: string;
  /**
   * When the request's headers arrived, epoch ms with a fraction (performance.timeOrigin + now(); `at` is
   * when its body had been read): the end of a latency a benchmark measures with the same clock.
   */
  arrivedAtMs: number;
  requestId: string;
  route: SandboxRoute;
  method: string;
  path: string;
  mailbox?: string;
  status: number;
  bytes: number;
  /** Whether an Authorization header came with it. */
  authorization: boolean;
  /** The client's client-request-id header (the Graph SDK's TelemetryHandler sets one per request). */
  clientRequestId?: string;
  contentType?: string;
  contentRange?: string;
  /** The fault action that replaced or swallowed the answer. */
  fault?: 'respond' | 'hang' | 'drop' | 'lose-answer';
  /** The per-mailbox limit that answered 429. */
  throttled?: 'concurrency' | 'rate';
}

export interface TokenRequestLog {
  at: string;
  tenantId: string;
  clientId: string;
  scope: string;
  auth: 'client_secret' | 'client_assertion' | 'none';
  /** Claims and header of a client assertion (certificate or federated credential). */
  assertion?: { header: Record<string, unknown>; claims: Record<string, unknown> };
  status: number;
}

/** Throttling answers (429) the sandbox gave for its per-mailbox limits (injected faults not counted). */
export interface SandboxThrottleCounts {
  /** Over mailboxConcurrency: 429 ApplicationThrottled, MailboxConcurrency. */
  concurrency: number;
  /** Over mailboxPerMinute: 429 with the Retry-After until the window has room. */
  rate: number;
  total: number;
}

export interface GraphSandbox {
  /** Graph root to use as BRIDGE_GRAPH_ENDPOINT (https://127.0.0.1:PORT). */
  url: string;
  /** Entra authority to use as AZURE_AUTHORITY_HOST (same server). */
  authorityHost: string;
  port: number;
  /** Accepted messages, oldest first (at most maxKeptMessages). */
  messages(): SandboxMessage[];
  /** How many times a message with this internetMessageId was sent from this mailbox (duplicates show here). */
  sentCount(mailbox: string, internetMessageId: string): number;
  requests(): SandboxRequestLog[];
  /** Throttling answers given since the start (or the last clear()). */
  throttles(): SandboxThrottleCounts;
  tokenRequests(): TokenRequestLog[];
  /** Forgets messages, drafts, upload sessions, logs and pending faults (disk copies stay). */
  clear(): void;
  inject(fault: SandboxFault): void;
  /**
   * Admin consent per tenant: grant/revoke the app's service principal, choose how the next
   * GET /{tenant}/v2.0/adminconsent prompt is answered (accept, decline, or accept naming another tenant).
   */
  consent: {
    grant(tenantId: string): void;
    revoke(tenantId: string): void;
    answerNext(answer: { decision: 'accept' | 'decline'; reportTenant?: string }): void;
  };
  /** A token as the token endpoint would issue it, with claim overrides (e.g. exp in the past). */
  issueToken(overrides?: Record<string, unknown>): string;
  close(): Promise<void>;
}
