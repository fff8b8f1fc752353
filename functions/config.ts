import { z } from 'zod';

import { SITE_ID_PATTERN } from '../core/envelope';
import { bridgeError } from '../core/errors';
import { DEFAULT_MAX_QUEUE_AGE_MS } from '../core/custody';
import {
  bool,
  bytes,
  csvList,
  durationMs,
  formatIssues,
  logLevel,
  maxMessageBytes,
} from '../core/config/define';
import type { LogLevel } from '../core/log';
import { MAIL_PERMISSION_MODELS, type MailPermissionModel } from '../core/mail-grants';
import { MIB } from '../core/message-size';
import { senderPatternProblem } from '../core/sender-pattern';
import { DEFAULT_QUEUE_NAME, QUEUE_NAME_PATTERN } from './queue-name';

/**
 * The function app's settings: exactly the app settings listed in function-settings.md (infra sets the same
 * names; a test compares them). Parsed once per process from the environment by `loadFunctionConfig`; no
 * other file of the function reads process.env.
 */

const optionalText = () => z.string().trim().min(1).optional();
const httpsUrl = () =>
  z
    .string()
    .trim()
    .refine(
      (v) => /^https:\/\/[^/]+/i.test(v),
      'must be an https:// URL (the Azure SDKs refuse anything else)',
    )
    .transform((v) => v.replace(/\/+$/, ''));
const jsonText = <T extends z.ZodType>(inner: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(inner);

export const mailbox = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^@\s]+@[^@\s]+$/, 'must be a mailbox address');
// A lone `*` allows every sender: the `npm start` sandbox uses it; Exchange RBAC still limits a real tenant.
/** core/sender-pattern.ts, the one syntax; `<>` (the null sender) names no mailbox, so not in a site policy. */
export const senderPattern = z
  .string()
  .trim()
  .refine(
    (v) => v !== '<>' && senderPatternProblem(v) === undefined,
    'must be a mailbox, *@domain or * (any sender)',
  );

const siteSchema = z.strictObject({
  id: z.string().regex(SITE_ID_PATTERN, 'site id: lower-case letters, digits and dashes'),
  tenantId: z.string().trim().min(1).optional(),
  allowedSenders: z.array(senderPattern).optional(),
  defaultSender: mailbox.optional(),
});

export const functionSettingsSchema = z.object({
  AZURE_TENANT_ID: optionalText().describe(
    'Home tenant of the app registration. Unset: the function cannot send and GET /api/health/deep says so.',
  ),
  AZURE_CLIENT_ID: optionalText().describe('Application (client) id of the app registration.'),
  AZURE_CLIENT_SECRET: optionalText().describe('Client secret (local/dev only; never in Azure templates).'),
  AZURE_CLIENT_CERTIFICATE_PATH: optionalText().describe(
    'PEM file with private key and certificate for the certificate credential.',
  ),
  AZURE_AUTHORITY_HOST: httpsUrl()
    .default('https://login.microsoftonline.com')
    .describe('Entra authority host (national clouds, test fakes).'),
  BRIDGE_MANAGED_IDENTITY_CLIENT_ID: optionalText().describe(
    'Client id of the user-assigned managed identity that is a federated credential of the app (secretless).',
  ),
  BRIDGE_GRAPH_ENDPOINT: httpsUrl()
    .default('https://graph.microsoft.com')
    .describe('Microsoft Graph root without version.'),
  BRIDGE_ALLOWED_SENDERS: csvList()
    .pipe(z.array(senderPattern))
    .default([])
    .describe(
      'Comma list of mailboxes the bridge may send as; `*@domain` allows a whole domain, a lone `*` every sender (the `npm start` sandbox default).',
    ),
  BRIDGE_DEFAULT_SENDER: mailbox
    .optional()
    .describe(
      'Mailbox that sends when the From address is not allowed (original From becomes Reply-To and display name). Unset: such messages are rejected.',
    ),
  BRIDGE_SITES: jsonText(z.array(siteSchema))
    .default([])
    .describe(
      'JSON array of sites `[{"id":"hq","tenantId":"…","allowedSenders":["…"],"defaultSender":"…"}]`; per-site values override the global sender settings.',
    ),
  BRIDGE_SITE_SECRETS: jsonText(
    z.record(z.string().regex(SITE_ID_PATTERN), z.string().min(16, 'site secret: at least 16 characters')),
  )
    .default({})
    .describe('JSON object site id → HMAC secret (a Key Vault reference in Azure).'),
  BRIDGE_MAIL_PERMISSION_MODEL: z
    .enum(MAIL_PERMISSION_MODELS as [MailPermissionModel, ...MailPermissionModel[]])
    .optional()
    .describe(
      "The deployment's mailPermissionModel: `exchangeRbac` (mailboxes scoped in Exchange, no mail role in the token) or `tenantWideConsent`. Only for diagnostics: doctor and GET /api/health/deep warn when a tenant-wide role makes an Exchange scope moot. Unset: not declared.",
    ),
  BRIDGE_REGISTRY_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'table name: 3–63 letters and digits')
    .default('bridgeregistry')
    .describe(
      'Table of the tenant and site registry (docs/multi-tenant.md); a site registered there wins over its BRIDGE_SITES entry.',
    ),
  BRIDGE_ADMIN_KEY: z
    .string()
    .min(32, 'admin key: at least 32 characters')
    .optional()
    .describe(
      'Key of the admin API /api/v1/admin (a Key Vault reference in Azure; `Authorization: Bearer …`). Unset: the admin API is off.',
    ),
  BRIDGE_CONSENT_REDIRECT_URI: httpsUrl()
    .optional()
    .describe(
      'Redirect URI of the admin-consent flow as registered on the app (https://<app>.azurewebsites.net/api/v1/consent/callback). Unset: `tenant add` prints no consent URL.',
    ),
  BRIDGE_MAX_MESSAGE_BYTES: maxMessageBytes().describe(
    'Largest message accepted, in bytes or with a unit (35MiB).',
  ),
  BRIDGE_SYNC_MAX_BYTES: bytes()
    .pipe(z.number().int().nonnegative())
    .default(3 * MIB)
    .describe('Messages up to this size are sent within the HTTP request; larger ones are queued.'),
  BRIDGE_SYNC_BUDGET_MS: durationMs()
    .pipe(z.number().int().nonnegative().max(200_000, 'must stay well inside the 230 s HTTP limit'))
    .default(20_000)
    .describe('Time budget for sending within the request; once spent, the message is queued instead.'),
  BRIDGE_SAVE_TO_SENT_ITEMS: bool()
    .default(true)
    .describe(
      'Keep a copy in the sender mailbox Sent Items. Also what lets the bridge resolve a lost Graph answer by looking there; off, such a message is held as GRAPH_OUTCOME_UNKNOWN.',
    ),
  BRIDGE_MAX_QUEUE_AGE_MS: durationMs()
    .pipe(z.number().int().min(60_000, 'at least 1 minute'))
    .default(DEFAULT_MAX_QUEUE_AGE_MS)
    .describe(
      'The horizon: a queued message is retried (at most every 30 min, Retry-After honoured) until it is this old, counted from when the edge received it, then ends failed with MESSAGE_EXPIRED, its body kept. Same setting and default (5d) as the edge.',
    ),
  AzureWebJobsStorage: optionalText().describe(
    'Storage connection string (local: Azurite), or use the identity-based AzureWebJobsStorage__* settings.',
  ),
  AzureWebJobsStorage__blobServiceUri: optionalText().describe('Identity-based storage: blob service URI.'),
  AzureWebJobsStorage__queueServiceUri: optionalText().describe('Identity-based storage: queue service URI.'),
  AzureWebJobsStorage__tableServiceUri: optionalText().describe('Identity-based storage: table service URI.'),
  AzureWebJobsStorage__credential: z
    .enum(['managedidentity'])
    .optional()
    .describe('Identity-based storage: `managedidentity`.'),
  AzureWebJobsStorage__clientId: optionalText().describe(
    'Identity-based storage: client id of the user-assigned managed identity.',
  ),
  BRIDGE_STATE_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'table name: 3–63 letters and digits')
    .default('bridgemessages')
    .describe('Table of message state records (and mailbox pacing rows).'),
  BRIDGE_BLOB_CONTAINER: z
    .string()
    .regex(
      /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/,
      'container name: 3–63 lower-case letters, digits, dashes',
    )
    .default('bridge-messages')
    .describe('Blob container of queued raw messages.'),
  BRIDGE_QUEUE_NAME: z
    .string()
    .regex(QUEUE_NAME_PATTERN, 'queue name: 3–63 lower-case letters, digits, dashes')
    .default(DEFAULT_QUEUE_NAME)
    .describe('Storage queue of pointers to queued messages.'),
  BRIDGE_MAILBOX_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(16)
    .default(4)
    .describe('Concurrent Graph sends per sender mailbox, across all instances (Exchange allows 4).'),
  BRIDGE_MAILBOX_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(600)
    .default(30)
    .describe('Messages per minute per sender mailbox, across all instances (Exchange allows 30).'),
  BRIDGE_LOG_LEVEL: logLevel(),
});

export type FunctionSettings = z.infer<typeof functionSettingsSchema>;
export type SiteConfig = z.infer<typeof siteSchema>;
export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | {
      kind: 'identity';
      blobServiceUri: string;
      queueServiceUri: string;
      tableServiceUri: string;
      /** 'managedidentity' as the Functions host reads it; unset means the default Azure credential chain. */
      credential?: 'managedidentity';
      managedIdentityClientId?: string;
    };

export interface FunctionConfig {
  identity: {
    tenantId?: string;
    clientId?: string;
    clientSecret?: string;
    clientCertificatePath?: string;
    authorityHost: string;
    managedIdentityClientId?: string;
  };
  graphEndpoint: string;
  allowedSenders: string[];
  defaultSender?: string;
  sites: SiteConfig[];
  siteSecrets: Record<string, string>;
  /** Tenant and site registry table (functions/tenants/). */
  registryTable: string;
  /** Admin API key; undefined = admin API off. */
  adminKey?: string;
  /** BRIDGE_ADMIN_KEY is a Key Vault reference the platform could not resolve (the secret is not created yet). */
  adminKeyUnresolved?: boolean;
  consentRedirectUri?: string;
  /** Declared permission model (diagnostics only); undefined = not declared. */
  mailPermissionModel?: MailPermissionModel;
  maxMessageBytes: number;
  syncMaxBytes: number;
  syncBudgetMs: number;
  saveToSentItems: boolean;
  /** BRIDGE_MAX_QUEUE_AGE_MS: how long a queued message is retried (core/custody.ts). */
  maxQueueAgeMs: number;
  storage: StorageConnection;
  stateTable: string;
  blobContainer: string;
  queueName: string;
  mailboxConcurrency: number;
  mailboxPerMinute: number;
  logLevel: LogLevel;
}

/** Every setting name the function reads (infra's template must set exactly these). */
export const FUNCTION_SETTING_NAMES = Object.keys(functionSettingsSchema.shape) as Array<
  keyof FunctionSettings
>;

/** Lists every problem with the settings at once (empty when valid). */
export function checkFunctionConfig(env: Record<string, string | undefined>): string[] {
  const result = parse(env);
  return result.ok ? [] : result.problems;
}

/** Parses the settings; throws CONFIG_INVALID listing every problem. Pure: pass the environment in. */
export function loadFunctionConfig(env: Record<string, string | undefined>): FunctionConfig {
  const result = parse(env);
  if (!result.ok) throw bridgeError('CONFIG_INVALID', { detail: result.problems.join('; ') });
  return result.config;
}

/** The process environment; the one place the function app reads it. */
export function functionConfigFromEnvironment(): FunctionConfig {
  return loadFunctionConfig(process.env);
}

/**
 * App Service leaves a Key Vault reference's own text in the setting when it cannot resolve it: the secret
 * does not exist yet (right after the first deployment) or the app's identity may not read it.
 */
const UNRESOLVED_KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\(/i;

function unresolvedProblem(name: string): string {
  return (
    `${name}: its Key Vault reference is not resolved — the secret does not exist yet, or the app's identity ` +
    'may not read it (Key Vault Secrets User); create it as in docs/deploy.md "Sites and their secrets", then ' +
    'restart the function app'
  );
}

type ParseResult = { ok: true; config: FunctionConfig } | { ok: false; problems: string[] };

function parse(env: Record<string, string | undefined>): ParseResult {
  // Azure shows unset app settings as empty strings; treat them as unset so defaults apply.
  const present: Record<string, string> = {};
  const unresolved: string[] = [];
  let adminKeyUnresolved = false;
  for (const name of FUNCTION_SETTING_NAMES) {
    const value = env[name];
    if (value === undefined || value.trim() === '') continue;
    if (UNRESOLVED_KEY_VAULT_REFERENCE.test(value)) {
      // The admin key is optional: until its secret exists the admin API stays off, delivery is unaffected.
      if (name === 'BRIDGE_ADMIN_KEY') adminKeyUnresolved = true;
      else unresolved.push(unresolvedProblem(name));
    } else present[name] = value;
  }
  const parsed = functionSettingsSchema.safeParse(present);
  if (!parsed.success) return { ok: false, problems: [...unresolved, ...formatIssues(parsed.error)] };
  if (unresolved.length > 0) return { ok: false, problems: unresolved };
  const s = parsed.data;
  const problems: string[] = [];
  const storage = storageConnection(s, problems);
  const siteIds = new Set<string>();
  for (const site of s.BRIDGE_SITES) {
    if (siteIds.has(site.id)) problems.push(`BRIDGE_SITES: site "${site.id}" is listed twice`);
    siteIds.add(site.id);
  }
  if (problems.length > 0 || !storage) return { ok: false, problems };
  const config = toConfig(s, storage);
  if (adminKeyUnresolved) config.adminKeyUnresolved = true;
  return { ok: true, config };
}

function storageConnection(s: FunctionSettings, problems: string[]): StorageConnection | undefined {
  if (s.AzureWebJobsStorage) return { kind: 'connectionString', connectionString: s.AzureWebJobsStorage };
  const uris = {
    blobServiceUri: s.AzureWebJobsStorage__blobServiceUri,
    queueServiceUri: s.AzureWebJobsStorage__queueServiceUri,
    tableServiceUri: s.AzureWebJobsStorage__tableServiceUri,
  };
  const missing = Object.entries(uris)
    .filter(([, v]) => !v)
    .map(([k]) => `AzureWebJobsStorage__${k}`);
  if (missing.length === 3) {
    problems.push(
      'AzureWebJobsStorage: set a connection string or the identity-based AzureWebJobsStorage__*ServiceUri settings',
    );
    return undefined;
  }
  if (missing.length > 0) {
    problems.push(`identity-based storage needs all three service URIs; missing ${missing.join(', ')}`);
    return undefined;
  }
  const out: StorageConnection = {
    kind: 'identity',
    blobServiceUri: uris.blobServiceUri!,
    queueServiceUri: uris.queueServiceUri!,
    tableServiceUri: uris.tableServiceUri!,
  };
  if (s.AzureWebJobsStorage__credential) out.credential = s.AzureWebJobsStorage__credential;
  if (s.AzureWebJobsStorage__clientId) out.managedIdentityClientId = s.AzureWebJobsStorage__clientId;
  return out;
}

function toConfig(s: FunctionSettings, storage: StorageConnection): FunctionConfig {
  const identity: FunctionConfig['identity'] = { authorityHost: s.AZURE_AUTHORITY_HOST };
  if (s.AZURE_TENANT_ID) identity.tenantId = s.AZURE_TENANT_ID;
  if (s.AZURE_CLIENT_ID) identity.clientId = s.AZURE_CLIENT_ID;
  if (s.AZURE_CLIENT_SECRET) identity.clientSecret = s.AZURE_CLIENT_SECRET;
  if (s.AZURE_CLIENT_CERTIFICATE_PATH) identity.clientCertificatePath = s.AZURE_CLIENT_CERTIFICATE_PATH;
  if (s.BRIDGE_MANAGED_IDENTITY_CLIENT_ID)
    identity.managedIdentityClientId = s.BRIDGE_MANAGED_IDENTITY_CLIENT_ID;
  const config: FunctionConfig = {
    identity,
    graphEndpoint: s.BRIDGE_GRAPH_ENDPOINT,
    allowedSenders: s.BRIDGE_ALLOWED_SENDERS,
    sites: s.BRIDGE_SITES,
    siteSecrets: s.BRIDGE_SITE_SECRETS,
    registryTable: s.BRIDGE_REGISTRY_TABLE,
    maxMessageBytes: s.BRIDGE_MAX_MESSAGE_BYTES,
    syncMaxBytes: s.BRIDGE_SYNC_MAX_BYTES,
    syncBudgetMs: s.BRIDGE_SYNC_BUDGET_MS,
    saveToSentItems: s.BRIDGE_SAVE_TO_SENT_ITEMS,
    maxQueueAgeMs: s.BRIDGE_MAX_QUEUE_AGE_MS,
    storage,
    stateTable: s.BRIDGE_STATE_TABLE,
    blobContainer: s.BRIDGE_BLOB_CONTAINER,
    queueName: s.BRIDGE_QUEUE_NAME,
    mailboxConcurrency: s.BRIDGE_MAILBOX_CONCURRENCY,
    mailboxPerMinute: s.BRIDGE_MAILBOX_PER_MINUTE,
    logLevel: s.BRIDGE_LOG_LEVEL,
  };
  if (s.BRIDGE_DEFAULT_SENDER) config.defaultSender = s.BRIDGE_DEFAULT_SENDER;
  if (s.BRIDGE_MAIL_PERMISSION_MODEL) config.mailPermissionModel = s.BRIDGE_MAIL_PERMISSION_MODEL;
  if (s.BRIDGE_ADMIN_KEY) config.adminKey = s.BRIDGE_ADMIN_KEY;
  if (s.BRIDGE_CONSENT_REDIRECT_URI) config.consentRedirectUri = s.BRIDGE_CONSENT_REDIRECT_URI;
  return config;
}

/** The sender policy and tenant of one site: its BRIDGE_SITES entry overrides the global values. */
export function siteSettings(
  config: FunctionConfig,
  siteId: string,
): { allowedSenders: string[]; defaultSender?: string; tenantId?: string } {
  const site = config.sites.find((s) => s.id === siteId);
  const out: { allowedSenders: string[]; defaultSender?: string; tenantId?: string } = {
    allowedSenders: site?.allowedSenders ?? config.allowedSenders,
  };
  const defaultSender = site?.defaultSender ?? config.defaultSender;
  if (defaultSender) out.defaultSender = defaultSender;
  const tenantId = site?.tenantId ?? config.identity.tenantId;
  if (tenantId) out.tenantId = tenantId;
  return out;
}
