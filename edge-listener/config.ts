import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

import { z } from 'zod';

import { DEFAULT_MAX_QUEUE_AGE_MS, DEFAULT_RETENTION_MS } from '../core/custody';
import { MAX_RECIPIENTS, SITE_ID_PATTERN } from '../core/envelope';
import {
  bool,
  bytes,
  csvList,
  durationMs,
  logLevel,
  maxMessageBytes,
  parseDurationMs,
  port,
} from '../core/config/define';
import type { LogLevel } from '../core/log';
import { MIB } from '../core/message-size';
import { senderPatternProblem } from '../core/sender-pattern';
import type { ReplyHoldMode } from './forward/reply-hold-policy';
import { Secret } from './secret';
import { cidrProblem, DEFAULT_ALLOWED_CLIENTS, isLoopbackBind } from './smtp/client-allow-list';
import { parsePasswordHash } from './smtp/password-hash';
import { parseBindingEntry, type SenderBindingEntry } from './smtp/sender-bindings';
import {
  REMOVED_STATUS_PAGE_SETTINGS,
  STATUS_PAGE_SECRET_FILES,
  type StatusPageConfig,
  statusPageConfig,
  statusPageSettingsShape,
} from './status-page/settings';

/**
 * The edge listener's settings: ONE zod schema whose keys are the setting names (the same names in the
 * environment and in the JSON config file), defaults and `.describe()` texts included — docs/config-edge.md
 * is generated from it. `loadEdgeConfig` merges file and environment (the environment wins), reads secrets
 * from the environment or `*_FILE` files (never from the config file), and lists every problem at once.
 */

const GIB = 1024 * MIB;

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const text = () => z.string().trim().min(1);
const sizeBytes = () => bytes().pipe(z.number().int().nonnegative());
const duration = () => durationMs().pipe(z.number().int().nonnegative());

const functionUrl = () =>
  text().superRefine((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a URL' });
      return;
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be https:// (http:// only for a function host on this machine)',
      });
    }
    if (url.pathname !== '/' || url.search || url.hash) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be the base URL of the function app, without a path (the edge adds /api/v1/messages)',
      });
    }
  });

const retrySchedule = () =>
  csvList()
    .transform((items, ctx) => {
      const out: number[] = [];
      for (const item of items) {
        try {
          out.push(parseDurationMs(item));
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      }
      return out;
    })
    .pipe(z.array(z.number().int().positive()).min(1, 'needs at least one interval'));

export const edgeSettingsSchema = z.strictObject({
  BRIDGE_SITE_ID: z
    .string()
    .regex(SITE_ID_PATTERN, 'lower-case letters, digits and dashes (at most 63)')
    .describe(
      'Id of this site, as registered in the function (BRIDGE_SITES); part of every request signature.',
    ),
  BRIDGE_FUNCTION_URL: functionUrl().describe(
    'Base URL of the function app, e.g. `https://bridge-func.azurewebsites.net` (http:// only for a function host on this machine).',
  ),
  BRIDGE_FUNCTION_KEY: text()
    .optional()
    .describe(
      'Azure Functions key (`x-functions-key`). Secret: environment or BRIDGE_FUNCTION_KEY_FILE only, never the config file.',
    ),
  BRIDGE_FUNCTION_KEY_FILE: text()
    .optional()
    .describe('File holding the function key (Docker/Kubernetes secrets, systemd credentials).'),
  BRIDGE_SITE_SECRET: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe(
      'HMAC secret shared with the function for this site (at least 16 characters). Secret: environment or BRIDGE_SITE_SECRET_FILE only.',
    ),
  BRIDGE_SITE_SECRET_FILE: text().optional().describe('File holding the site secret.'),
  BRIDGE_INSTANCE_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,23}$/, 'lower-case letters, digits and dashes (at most 24)')
    .optional()
    .describe(
      'Name of this listener inside spool ids, so two listeners of one site never mint the same id. Default: derived from the host name.',
    ),
  BRIDGE_DATA_DIR: text()
    .default('./.data')
    .describe(
      'Directory of the spool and local state (relative paths are taken from the working directory).',
    ),
  BRIDGE_LOG_LEVEL: logLevel(),
  BRIDGE_LOG_SMTP_TRACE: bool()
    .default(false)
    .describe(
      'Log smtp-server protocol lines (commands and replies; AUTH data masked, message data never logged). For troubleshooting a device.',
    ),

  BRIDGE_SMTP_HOST: text()
    .default('0.0.0.0')
    .describe('Address the SMTP listeners bind to (`::` for IPv6 and IPv4).'),
  BRIDGE_SMTP_PORT: port().default(2525).describe('SMTP port (plain, with STARTTLS when enabled).'),
  BRIDGE_SMTPS_PORT: port()
    .optional()
    .describe('Port for implicit TLS (SMTPS, usually 465). Unset: no implicit-TLS listener.'),
  BRIDGE_SMTP_HOSTNAME: text()
    .optional()
    .describe('Name in the greeting and EHLO reply. Default: the host name.'),
  BRIDGE_ALLOWED_CLIENTS: csvList()
    .superRefine((items, ctx) => {
      for (const item of items) {
        const problem = cidrProblem(item);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    })
    .default(DEFAULT_ALLOWED_CLIENTS)
    .describe(
      'Comma list of client addresses or CIDR blocks allowed to connect; others get 554 before the greeting. Default: this machine only (Postfix `mynetworks_style = host`). Required when BRIDGE_SMTP_HOST is not a loopback address, unless AUTH is required: the listener refuses to start without it.',
    ),
  BRIDGE_REQUIRE_ALLOWED_CLIENTS: bool()
    .default(false)
    .describe(
      'Refuse to start unless BRIDGE_ALLOWED_CLIENTS is set explicitly, even with AUTH required (the container image sets it: there every connection may arrive from a bridge or proxy address).',
    ),
  BRIDGE_MAX_MESSAGE_BYTES: maxMessageBytes().describe(
    'Largest message accepted (advertised as SIZE; larger ones get 552). Bytes or with a unit: 35MiB.',
  ),
  BRIDGE_SMTP_MAX_RECIPIENTS: count(1, MAX_RECIPIENTS)
    .default(MAX_RECIPIENTS)
    .describe('Recipients per message; further RCPTs get 452 (Exchange Online allows 500).'),
  BRIDGE_SMTP_ALLOWED_SENDERS: csvList()
    .superRefine((items, ctx) => {
      for (const item of items) {
        const problem = senderPatternProblem(item);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    })
    .default([])
    .describe(
      'Comma list of MAIL FROM addresses accepted (`user@domain`, `*@domain`, `*`, `<>` for the null sender). Empty: any.',
    ),
  BRIDGE_SENDER_BINDINGS: csvList()
    .superRefine((items, ctx) => {
      for (const item of items) {
        const parsed = parseBindingEntry(item);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      }
    })
    .default([])
    .describe(
      'Which From addresses each device may use: comma list of `user:<AUTH user>=<pattern>` and `client:<address or CIDR>=<pattern>` (several patterns: `p1|p2`; patterns as in BRIDGE_SMTP_ALLOWED_SENDERS). A bound device sending another From gets 550 5.7.1 DEVICE_SENDER_NOT_BOUND at end of DATA, and the function checks again. Empty: devices are not bound — any allowed device may claim any mailbox the site policy allows.',
    ),
  BRIDGE_SMTP_MAX_CONNECTIONS: count(1, 100_000)
    .default(500)
    .describe('Concurrent SMTP connections in total; more get 421.'),
  BRIDGE_SMTP_MAX_CONNECTIONS_PER_IP: count(1, 100_000)
    .default(100)
    .describe('Concurrent SMTP connections from one client address; more get 421.'),
  BRIDGE_SMTP_MAX_AUTH_FAILURES_PER_IP: count(1, 100_000)
    .default(10)
    .describe(
      'Failed AUTH attempts from one address within the window before it gets 421 for the rest of the window.',
    ),
  BRIDGE_SMTP_AUTH_FAILURE_WINDOW_MS: duration()
    .default(15 * 60_000)
    .describe('Window for counting failed AUTH attempts per address.'),
  BRIDGE_SMTP_SOCKET_TIMEOUT_MS: duration()
    .pipe(z.number().min(1))
    .default(120_000)
    .describe(
      'Idle time after which a silent client is disconnected with 421 (RFC 5321 §4.5.3.2 suggests minutes).',
    ),
  BRIDGE_SMTP_STARTTLS: bool().default(true).describe('Offer STARTTLS on the plain port.'),
  BRIDGE_SMTP_USERS: csvList()
    .default([])
    .describe(
      'SMTP AUTH users, comma list of `name:scrypt$…` (password hashes only). Empty: AUTH is not offered.',
    ),
  BRIDGE_SMTP_USERS_FILE: text()
    .optional()
    .describe('File with the AUTH users, one `name:scrypt$…` per line.'),
  BRIDGE_SMTP_AUTH_REQUIRED: bool()
    .default(false)
    .describe('Require AUTH before MAIL FROM (530 otherwise). Needs BRIDGE_SMTP_USERS.'),
  BRIDGE_SMTP_AUTH_ALLOW_PLAINTEXT: bool()
    .default(false)
    .describe('Allow AUTH on a connection without TLS even though STARTTLS is offered (old devices).'),

  BRIDGE_TLS_CERT_FILE: text()
    .optional()
    .describe(
      'PEM certificate (chain) for STARTTLS and SMTPS. Unset: a self-signed certificate is generated under BRIDGE_DATA_DIR/tls.',
    ),
  BRIDGE_TLS_KEY_FILE: text().optional().describe('PEM private key for BRIDGE_TLS_CERT_FILE.'),
  BRIDGE_TLS_LEGACY: bool()
    .default(false)
    .describe(
      'THE switch for old devices: allow TLS 1.0/1.1 and old ciphers (OpenSSL security level 0). Off: TLS 1.2+ only.',
    ),

  BRIDGE_FORWARD_BUDGET_MS: duration()
    .default(5_000)
    .describe(
      'How long a held SMTP reply (BRIDGE_REPLY_HOLD) waits for the function after the message is on disk; then the client gets 250 and the spool keeps trying. 0: reply as soon as the message is on disk, never wait (a rejection then shows on the status page, not on the device).',
    ),
  BRIDGE_REPLY_HOLD: z
    .enum(['adaptive', 'always', 'never'])
    .default('adaptive')
    .describe(
      'When the SMTP reply waits for the function (up to BRIDGE_FORWARD_BUDGET_MS) after the message is on disk. `adaptive`: only while the answer can still change what the device is told — the first message of a device and sender, or after a rejection — and at once (250 queued) when that route recently succeeded, when the function is pacing the mailbox (202 queued), or when forwards back up (docs/design/reply-hold.md). `always`: every message. `never`: none (as BRIDGE_FORWARD_BUDGET_MS=0).',
    ),
  BRIDGE_REPLY_HOLD_TRUST_MS: duration()
    .pipe(z.number().min(1))
    .default(3_600_000)
    .describe(
      'adaptive: how long after a success for a route (device + sender), or a 202 queued for a mailbox, its messages are answered at commit. Longer: fewer waits; a rejection of a route that changed within this time shows on the status page once, then the device sees it on its next message.',
    ),
  BRIDGE_REPLY_HOLD_BACKLOG: count(1, 100_000)
    .optional()
    .describe(
      'adaptive: forwards in flight (or waiting for a POST slot) from which every reply goes at commit, new routes too (a held reply would mostly wait out the budget anyway). Default: BRIDGE_FORWARD_CONCURRENCY.',
    ),
  BRIDGE_FORWARD_TIMEOUT_MS: duration()
    .pipe(z.number().min(1).max(230_000, 'must stay inside the 230 s Azure HTTP limit'))
    .default(60_000)
    .describe('Timeout of one POST to the function.'),
  BRIDGE_FORWARD_CONCURRENCY: count(1, 1024).default(32).describe('POSTs to the function at the same time.'),
  BRIDGE_FORWARD_THREAD: bool()
    .default(true)
    .describe(
      'Hash, sign and POST messages on a worker thread beside the SMTP intake, so forwarding uses a second CPU core. false: everything on one thread (slower; for troubleshooting).',
    ),
  BRIDGE_RETRY_SCHEDULE: retrySchedule()
    .default([
      30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000,
    ])
    .describe(
      'Wait after the 1st, 2nd, … failed attempt (the last value repeats); Retry-After from the function wins when longer.',
    ),
  BRIDGE_RETRY_JITTER: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe(
      'Random spread of each retry wait, as a fraction (0.2 = ±20%), so a backlog does not retry in lockstep.',
    ),
  BRIDGE_MAX_QUEUE_AGE_MS: duration()
    .pipe(z.number().min(1))
    .default(DEFAULT_MAX_QUEUE_AGE_MS)
    .describe(
      'Age after which a message that could not be delivered ends failed with MESSAGE_EXPIRED (Postfix: 5d). The same setting in the function: one horizon for both sides.',
    ),
  BRIDGE_RETENTION_MS: duration()
    .pipe(z.number().min(1))
    .default(DEFAULT_RETENTION_MS)
    .describe(
      'How long the body of a failed message is kept (for an admin to resubmit) after it failed; then it is removed. The same setting in the function.',
    ),
  BRIDGE_SHUTDOWN_TIMEOUT_MS: duration()
    .default(30_000)
    .describe(
      'On stop, how long to wait for SMTP sessions and POSTs in flight before closing them (the spool keeps everything).',
    ),

  BRIDGE_SPOOL_MAX_BYTES: sizeBytes()
    .default(2 * GIB)
    .describe(
      'Spool quota; when messages waiting would exceed it, new ones get 452 and the device retries later.',
    ),
  BRIDGE_SPOOL_MIN_FREE_BYTES: sizeBytes()
    .default(256 * MIB)
    .describe('Free disk space to keep under BRIDGE_DATA_DIR; below it new messages get 452.'),
  BRIDGE_SPOOL_KEEP_DONE: count(0, 1_000_000)
    .default(1000)
    .describe(
      'How many records of finished messages (sent, queued by the function, rejected) to keep for the status page.',
    ),
  BRIDGE_SPOOL_KEEP_DONE_MS: duration()
    .default(86_400_000)
    .describe('How long to keep records of finished messages.'),

  BRIDGE_HTTP_HOST: text().default('127.0.0.1').describe('Address of the status/health HTTP server.'),
  BRIDGE_HTTP_PORT: port().default(8025).describe('Port of /healthz, /metrics and the status page.'),
  ...statusPageSettingsShape,
});

/** Settings that were removed, with what to do instead: set anywhere, they are an error naming the change. */
export const REMOVED_SETTINGS: Record<string, string> = { ...REMOVED_STATUS_PAGE_SETTINGS };

export type EdgeSettings = z.infer<typeof edgeSettingsSchema>;
export const EDGE_SETTING_NAMES = Object.keys(edgeSettingsSchema.shape) as Array<keyof EdgeSettings>;
/** Settings that must not appear in the config file (the file is often readable by more people). */
export const SECRET_SETTINGS = ['BRIDGE_SITE_SECRET', 'BRIDGE_FUNCTION_KEY', 'BRIDGE_ADMIN_TOKEN'] as const;

export interface SmtpUser {
  name: string;
  passwordHash: Secret;
}

export interface EdgeConfig {
  siteId: string;
  instanceId: string;
  dataDir: string;
  log: { level: LogLevel; smtpTrace: boolean };
  smtp: {
    host: string;
    port: number;
    smtpsPort?: number;
    hostname: string;
    allowedClients: string[];
    maxMessageBytes: number;
    maxRecipients: number;
    allowedSenders: string[];
    /** BRIDGE_SENDER_BINDINGS, parsed (smtp/sender-bindings.ts). */
    senderBindings: SenderBindingEntry[];
    maxConnections: number;
    maxConnectionsPerIp: number;
    maxAuthFailuresPerIp: number;
    authFailureWindowMs: number;
    socketTimeoutMs: number;
    starttls: boolean;
  };
  auth: { users: SmtpUser[]; required: boolean; allowPlaintext: boolean };
  tls: { certFile?: string; keyFile?: string; legacy: boolean };
  forward: {
    url: string;
    functionKey?: Secret;
    siteSecret: Secret;
    budgetMs: number;
    /** BRIDGE_REPLY_HOLD*: which replies wait for the function (forward/reply-hold-policy.ts). */
    replyHold: { mode: ReplyHoldMode; trustMs: number; backlog: number };
    timeoutMs: number;
    concurrency: number;
    /** POST from a worker thread (BRIDGE_FORWARD_THREAD). */
    thread: boolean;
    retryScheduleMs: number[];
    retryJitter: number;
    maxQueueAgeMs: number;
  };
  spool: {
    maxBytes: number;
    minFreeBytes: number;
    keepDone: number;
    keepDoneMs: number;
    retentionMs: number;
  };
  http: { host: string; port: number };
  statusPage: StatusPageConfig;
  shutdownTimeoutMs: number;
}

export type LoadResult = { config: EdgeConfig } | { issues: string[] };

export interface LoadSource {
  /** Usually process.env; only names in the schema are read. */
  env: Record<string, string | undefined>;
  /** JSON config file; default: $BRIDGE_CONFIG_FILE when set. */
  file?: string;
}

/** Merges file and environment, validates everything, and returns the config or every problem found. */
export function loadEdgeConfig(source: LoadSource): LoadResult {
  const issues: string[] = [];
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const file = source.file ?? nonEmpty(source.env.BRIDGE_CONFIG_FILE);
  if (file) readConfigFile(file, raw, origin, issues);
  for (const name of EDGE_SETTING_NAMES) {
    const value = nonEmpty(source.env[name]);
    if (value !== undefined) {
      raw[name] = value;
      origin[name] = 'environment';
    }
  }
  for (const [name, why] of Object.entries(REMOVED_SETTINGS)) {
    if (nonEmpty(source.env[name]) !== undefined || name in raw) {
      issues.push(`${name}: ${why}`);
      delete raw[name];
    }
  }
  resolveSecretFiles(raw, issues);
  checkPresence(raw, issues);
  const parsed = edgeSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = String(i.path[0] ?? '');
      const from = origin[key] ? ` (from ${origin[key]})` : '';
      issues.push(`${key || '(file)'}${from}: ${i.message}`);
    }
  }
  if (!parsed.success || issues.length > 0) return { issues: dedupe(issues) };
  const config = toConfig(parsed.data, issues, raw.BRIDGE_ALLOWED_CLIENTS !== undefined);
  return issues.length > 0 ? { issues } : { config };
}

/** The one place the edge reads process.env: main.ts and the CLI call this. */
export function loadEdgeConfigFromProcess(file?: string): LoadResult {
  return loadEdgeConfig(file === undefined ? { env: process.env } : { env: process.env, file });
}

function readConfigFile(
  file: string,
  raw: Record<string, unknown>,
  origin: Record<string, string>,
  issues: string[],
) {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    issues.push(`config file ${file}: ${(e as Error).message}`);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push(`config file ${file}: must be a JSON object of settings`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if ((SECRET_SETTINGS as readonly string[]).includes(key)) {
      issues.push(
        `${key} (from config file): secrets are not read from the config file; set ${key} or ${key}_FILE in the environment`,
      );
      continue;
    }
    raw[key] = v;
    origin[key] = 'config file';
  }
}

function resolveSecretFiles(raw: Record<string, unknown>, issues: string[]) {
  const pairs = [
    ['BRIDGE_SITE_SECRET', 'BRIDGE_SITE_SECRET_FILE'],
    ['BRIDGE_FUNCTION_KEY', 'BRIDGE_FUNCTION_KEY_FILE'],
    ['BRIDGE_SMTP_USERS', 'BRIDGE_SMTP_USERS_FILE'],
    ...STATUS_PAGE_SECRET_FILES,
  ] as const;
  for (const [name, fileName] of pairs) {
    const path = raw[fileName];
    if (typeof path !== 'string' || path.trim() === '') continue;
    if (raw[name] !== undefined) {
      issues.push(`${name}: set either ${name} or ${fileName}, not both`);
      continue;
    }
    try {
      const content = readFileSync(path, 'utf8').trim();
      // A users file has one entry per line; the schema takes a comma list.
      raw[name] =
        name === 'BRIDGE_SMTP_USERS'
          ? content
              .split(/\r?\n/)
              .filter((l) => l.trim() && !l.startsWith('#'))
              .join(',')
          : content;
    } catch (e) {
      issues.push(
        `${fileName}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
}

/** Checks that need no parsed values, so they are reported together with schema problems. */
function checkPresence(raw: Record<string, unknown>, issues: string[]) {
  if (raw.BRIDGE_SITE_SECRET === undefined && raw.BRIDGE_SITE_SECRET_FILE === undefined) {
    issues.push(
      'BRIDGE_SITE_SECRET: required (or BRIDGE_SITE_SECRET_FILE); copy it from the function configuration (BRIDGE_SITE_SECRETS)',
    );
  }
  if ((raw.BRIDGE_TLS_CERT_FILE === undefined) !== (raw.BRIDGE_TLS_KEY_FILE === undefined))
    issues.push('BRIDGE_TLS_CERT_FILE and BRIDGE_TLS_KEY_FILE: set both or neither');
  for (const name of ['BRIDGE_TLS_CERT_FILE', 'BRIDGE_TLS_KEY_FILE'] as const) {
    const path = raw[name];
    if (typeof path !== 'string') continue;
    try {
      readFileSync(path);
    } catch (e) {
      issues.push(
        `${name}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
}

function toConfig(s: EdgeSettings, issues: string[], explicitClients: boolean): EdgeConfig {
  const users = parseUsers(s.BRIDGE_SMTP_USERS, issues);
  if (s.BRIDGE_SMTP_AUTH_REQUIRED && users.length === 0)
    issues.push('BRIDGE_SMTP_AUTH_REQUIRED: needs at least one user in BRIDGE_SMTP_USERS');
  const clientListProblem = openIntakeProblem(s, explicitClients);
  if (clientListProblem) issues.push(clientListProblem);
  if (
    s.BRIDGE_SMTPS_PORT !== undefined &&
    s.BRIDGE_SMTPS_PORT !== 0 &&
    s.BRIDGE_SMTPS_PORT === s.BRIDGE_SMTP_PORT
  )
    issues.push('BRIDGE_SMTPS_PORT: must differ from BRIDGE_SMTP_PORT');

  const smtp: EdgeConfig['smtp'] = {
    host: s.BRIDGE_SMTP_HOST,
    port: s.BRIDGE_SMTP_PORT,
    hostname: s.BRIDGE_SMTP_HOSTNAME ?? hostname(),
    allowedClients: s.BRIDGE_ALLOWED_CLIENTS,
    maxMessageBytes: s.BRIDGE_MAX_MESSAGE_BYTES,
    maxRecipients: s.BRIDGE_SMTP_MAX_RECIPIENTS,
    allowedSenders: s.BRIDGE_SMTP_ALLOWED_SENDERS,
    senderBindings: bindings(s.BRIDGE_SENDER_BINDINGS, users, issues),
    maxConnections: s.BRIDGE_SMTP_MAX_CONNECTIONS,
    maxConnectionsPerIp: s.BRIDGE_SMTP_MAX_CONNECTIONS_PER_IP,
    maxAuthFailuresPerIp: s.BRIDGE_SMTP_MAX_AUTH_FAILURES_PER_IP,
    authFailureWindowMs: s.BRIDGE_SMTP_AUTH_FAILURE_WINDOW_MS,
    socketTimeoutMs: s.BRIDGE_SMTP_SOCKET_TIMEOUT_MS,
    starttls: s.BRIDGE_SMTP_STARTTLS,
  };
  if (s.BRIDGE_SMTPS_PORT !== undefined) smtp.smtpsPort = s.BRIDGE_SMTPS_PORT;
  const tls: EdgeConfig['tls'] = { legacy: s.BRIDGE_TLS_LEGACY };
  if (s.BRIDGE_TLS_CERT_FILE !== undefined) tls.certFile = resolve(s.BRIDGE_TLS_CERT_FILE);
  if (s.BRIDGE_TLS_KEY_FILE !== undefined) tls.keyFile = resolve(s.BRIDGE_TLS_KEY_FILE);
  const forward: EdgeConfig['forward'] = {
    url: new URL(s.BRIDGE_FUNCTION_URL).origin,
    siteSecret: new Secret(s.BRIDGE_SITE_SECRET ?? ''),
    budgetMs: s.BRIDGE_FORWARD_BUDGET_MS,
    replyHold: {
      mode: s.BRIDGE_REPLY_HOLD,
      trustMs: s.BRIDGE_REPLY_HOLD_TRUST_MS,
      backlog: s.BRIDGE_REPLY_HOLD_BACKLOG ?? s.BRIDGE_FORWARD_CONCURRENCY,
    },
    timeoutMs: s.BRIDGE_FORWARD_TIMEOUT_MS,
    concurrency: s.BRIDGE_FORWARD_CONCURRENCY,
    thread: s.BRIDGE_FORWARD_THREAD,
    retryScheduleMs: s.BRIDGE_RETRY_SCHEDULE,
    retryJitter: s.BRIDGE_RETRY_JITTER,
    maxQueueAgeMs: s.BRIDGE_MAX_QUEUE_AGE_MS,
  };
  if (s.BRIDGE_FUNCTION_KEY !== undefined) forward.functionKey = new Secret(s.BRIDGE_FUNCTION_KEY);
  return {
    siteId: s.BRIDGE_SITE_ID,
    instanceId: s.BRIDGE_INSTANCE_ID ?? instanceIdFromHostname(hostname()),
    dataDir: resolve(s.BRIDGE_DATA_DIR),
    log: { level: s.BRIDGE_LOG_LEVEL, smtpTrace: s.BRIDGE_LOG_SMTP_TRACE },
    smtp,
    auth: {
      users,
      required: s.BRIDGE_SMTP_AUTH_REQUIRED,
      allowPlaintext: s.BRIDGE_SMTP_AUTH_ALLOW_PLAINTEXT,
    },
    tls,
    forward,
    spool: {
      maxBytes: s.BRIDGE_SPOOL_MAX_BYTES,
      minFreeBytes: s.BRIDGE_SPOOL_MIN_FREE_BYTES,
      keepDone: s.BRIDGE_SPOOL_KEEP_DONE,
      keepDoneMs: s.BRIDGE_SPOOL_KEEP_DONE_MS,
      retentionMs: s.BRIDGE_RETENTION_MS,
    },
    http: { host: s.BRIDGE_HTTP_HOST, port: s.BRIDGE_HTTP_PORT },
    statusPage: statusPageConfig(s),
    shutdownTimeoutMs: s.BRIDGE_SHUTDOWN_TIMEOUT_MS,
  };
}

/**
 * Who may hand in mail must be a decision, not an accident (docs/security-model.md, "SMTP intake"): a listener
 * reachable from the network needs the list of its devices, or AUTH for everyone. The loopback default list
 * would keep devices out anyway — this refusal says so at start instead of with a 554 at the copier.
 */
function openIntakeProblem(s: EdgeSettings, explicitClients: boolean): string | undefined {
  if (explicitClients) return undefined;
  if (s.BRIDGE_REQUIRE_ALLOWED_CLIENTS)
    return "BRIDGE_ALLOWED_CLIENTS: required here (BRIDGE_REQUIRE_ALLOWED_CLIENTS, set by the container image): list the devices' addresses or subnets, e.g. 192.168.10.0/24";
  if (isLoopbackBind(s.BRIDGE_SMTP_HOST) || s.BRIDGE_SMTP_AUTH_REQUIRED) return undefined;
  return `BRIDGE_ALLOWED_CLIENTS: required because BRIDGE_SMTP_HOST=${s.BRIDGE_SMTP_HOST} is reachable from the network: list the devices' addresses or subnets (e.g. 192.168.10.0/24), require AUTH (BRIDGE_SMTP_AUTH_REQUIRED), or bind to 127.0.0.1`;
}

function bindings(entries: string[], users: SmtpUser[], issues: string[]): SenderBindingEntry[] {
  const out: SenderBindingEntry[] = [];
  const names = new Set(users.map((u) => u.name.toLowerCase()));
  for (const entry of entries) {
    const parsed = parseBindingEntry(entry);
    if (typeof parsed === 'string') continue; // reported by the schema
    if (parsed.kind === 'user' && !names.has(parsed.who.toLowerCase()))
      issues.push(`BRIDGE_SENDER_BINDINGS: "${parsed.who}" is not a user in BRIDGE_SMTP_USERS`);
    out.push(parsed);
  }
  return out;
}

function parseUsers(entries: string[], issues: string[]): SmtpUser[] {
  const users: SmtpUser[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    const hash = entry.slice(colon + 1);
    // Only the name is ever shown: the hash is not quoted in any message.
    // eslint-disable-next-line no-control-regex
    if (!name || name.length > 256 || /[\s\x00-\x1f]/.test(name))
      issues.push(
        `BRIDGE_SMTP_USERS: entry ${users.length + 1} needs the form name:scrypt$… (name without spaces, at most 256 characters)`,
      );
    else if (!parsePasswordHash(hash))
      issues.push(
        `BRIDGE_SMTP_USERS: user "${name}" must have a scrypt password hash (scrypt$14$8$1$salt$hash), never a clear password`,
      );
    else if (seen.has(name.toLowerCase())) issues.push(`BRIDGE_SMTP_USERS: user "${name}" is listed twice`);
    else {
      seen.add(name.toLowerCase());
      users.push({ name, passwordHash: new Secret(hash) });
    }
  }
  return users;
}

/** A spool-id-safe name for this machine: lower-case, dashes, at most 24 characters. */
export function instanceIdFromHostname(host: string): string {
  const cleaned = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  return cleaned || 'edge';
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}
