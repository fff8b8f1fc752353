import { resolve } from 'node:path';

import { z } from 'zod';

import { formatIssues, port } from '../../core/config/define';

/**
 * Settings of `npm start` itself. Everything else in the environment passes through to the processes of the
 * stack, which read their own settings (edge listener, function host); this schema only names what the
 * stack needs to wire them together and to print where things listen. Ports set to 0 get a free port.
 */
export const stackSettingsSchema = z.object({
  BRIDGE_DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default('./.data')
    .describe(
      'Everything the stack keeps: spool, Azurite storage, kept sandbox messages, generated secrets, logs.',
    ),
  BRIDGE_SITE_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .default('local')
    .describe('Site id the local edge listener signs with.'),
  BRIDGE_SMTP_HOST: z
    .string()
    .trim()
    .min(1)
    .default('127.0.0.1')
    .describe(
      'Address the SMTP listener binds to. For a real copier: 0.0.0.0 together with BRIDGE_ALLOWED_CLIENTS (its address).',
    ),
  BRIDGE_SMTP_PORT: port().default(2525).describe('SMTP port.'),
  BRIDGE_HTTP_HOST: z.string().trim().min(1).default('127.0.0.1').describe('Address of the status page.'),
  BRIDGE_HTTP_PORT: port().default(8025).describe('Port of the status page, /healthz and /metrics.'),
  BRIDGE_LOCAL_FUNCTION_PORT: port()
    .default(0)
    .describe('Port of the local function host (0: any free port).'),
  BRIDGE_SANDBOX_PORT: port().default(0).describe('Port of the Graph sandbox (0: any free port).'),
  AZURE_TENANT_ID: z.string().trim().optional(),
  AZURE_CLIENT_ID: z.string().trim().optional(),
  AZURE_CLIENT_SECRET: z.string().optional(),
  AZURE_CLIENT_CERTIFICATE_PATH: z.string().trim().optional(),
  BRIDGE_ALLOWED_SENDERS: z.string().optional(),
  BRIDGE_DEFAULT_SENDER: z.string().optional(),
});

export type StackMode = 'sandbox' | 'live';

export interface StackSettings {
  dataDir: string;
  siteId: string;
  mode: StackMode;
  smtp: { host: string; port: number };
  http: { host: string; port: number };
  functionPort: number;
  sandboxPort: number;
  /** Whether the environment sets a sender policy (else the sandbox allows every sender). */
  senderPolicySet: boolean;
  /** The environment the child processes inherit (before the stack's own settings are laid over it). */
  inheritedEnv: Record<string, string | undefined>;
}

export type StackSettingsResult = { settings: StackSettings } | { issues: string[] };

/** Parses the stack's settings from an environment (pure: pass the environment in). */
export function loadStackSettings(env: Record<string, string | undefined>, cwd: string): StackSettingsResult {
  const present = Object.fromEntries(
    Object.keys(stackSettingsSchema.shape).flatMap((k) => (env[k]?.trim() ? [[k, env[k]]] : [])),
  );
  const parsed = stackSettingsSchema.safeParse(present);
  if (!parsed.success) return { issues: formatIssues(parsed.error) };
  const s = parsed.data;
  const mode = credentialMode(s);
  if ('issue' in mode) return { issues: [mode.issue] };
  return {
    settings: {
      dataDir: resolve(cwd, s.BRIDGE_DATA_DIR),
      siteId: s.BRIDGE_SITE_ID,
      mode: mode.mode,
      smtp: { host: s.BRIDGE_SMTP_HOST, port: s.BRIDGE_SMTP_PORT },
      http: { host: s.BRIDGE_HTTP_HOST, port: s.BRIDGE_HTTP_PORT },
      functionPort: s.BRIDGE_LOCAL_FUNCTION_PORT,
      sandboxPort: s.BRIDGE_SANDBOX_PORT,
      senderPolicySet: Boolean(s.BRIDGE_ALLOWED_SENDERS?.trim() || s.BRIDGE_DEFAULT_SENDER?.trim()),
      inheritedEnv: { ...env },
    },
  };
}

/**
 * Live mode needs a complete app registration credential; a partial one is a mistake to point out, not a
 * reason to fall back to the sandbox silently (the admin would believe mail goes out).
 */
function credentialMode(s: z.infer<typeof stackSettingsSchema>): { mode: StackMode } | { issue: string } {
  const given = {
    AZURE_TENANT_ID: s.AZURE_TENANT_ID,
    AZURE_CLIENT_ID: s.AZURE_CLIENT_ID,
    'AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH':
      s.AZURE_CLIENT_SECRET || s.AZURE_CLIENT_CERTIFICATE_PATH,
  };
  const missing = Object.entries(given)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length === 3) return { mode: 'sandbox' };
  if (missing.length === 0) return { mode: 'live' };
  return {
    issue: `Microsoft 365 credentials are incomplete: set ${missing.join(' and ')} too, or unset the AZURE_* variables to run the sandbox.`,
  };
}

/** The process environment; the one place `npm start` reads it. */
export function stackEnvironment(): Record<string, string | undefined> {
  return process.env;
}
