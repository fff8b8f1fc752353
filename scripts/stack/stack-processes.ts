import { join } from 'node:path';

import type { LocalSecrets } from './local-secrets';
import type { StackSettings } from './stack-config';

/**
 * What each process of the stack runs with: script, arguments and environment. Pure, so the wiring —
 * which secret goes where, what the sandbox changes — is readable in one place and tested without
 * processes. Each process gets only the secrets it needs; NODE_EXTRA_CA_CERTS is set in its environment at
 * spawn because Node reads it once, at start.
 */
export const REPO_ROOT = join(__dirname, '..', '..');

export interface ProcessPlan {
  script: string;
  args: string[];
  env: Record<string, string | undefined>;
}

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * The sandbox accepts any app registration, so these are placeholders that only make the function take
 * its normal credential path (token from the sandbox's Entra look-alike); nothing real is in them.
 */
export const SANDBOX_IDENTITY = {
  tenantId: 'sandbox-tenant',
  clientId: 'sandbox-app',
  clientSecret: 'sandbox-placeholder-not-a-secret',
} as const;

/** Sender policy of the sandbox when the environment sets none: every sender may send (as itself). */
export const SANDBOX_ALLOWED_SENDERS = '*';

/** Settings that carry secrets of one process; every other process gets them removed. */
const SECRET_NAMES = [
  'AZURE_CLIENT_SECRET',
  'BRIDGE_SITE_SECRET',
  'BRIDGE_SITE_SECRET_FILE',
  'BRIDGE_SITE_SECRETS',
  'BRIDGE_FUNCTION_KEY',
  'BRIDGE_FUNCTION_KEY_FILE',
  'BRIDGE_LOCAL_FUNCTION_KEY',
  'BRIDGE_ADMIN_TOKEN',
  'BRIDGE_ADMIN_TOKEN_FILE',
];

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export interface Wiring {
  settings: StackSettings;
  secrets: LocalSecrets;
  azurite: AzuritePorts;
  functionPort: number;
  /** Sandbox mode only. */
  sandbox?: { port: number; url: string; certPath: string; keyPath: string };
}

export function azuriteConnectionString(ports: AzuritePorts): string {
  const base = 'http://127.0.0.1';
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=${base}:${ports.blob}/${AZURITE_ACCOUNT}`,
    `QueueEndpoint=${base}:${ports.queue}/${AZURITE_ACCOUNT}`,
    `TableEndpoint=${base}:${ports.table}/${AZURITE_ACCOUNT}`,
  ].join(';');
}

export const functionUrl = (w: Wiring) => `http://127.0.0.1:${w.functionPort}`;

/**
 * Azurite as `node azurite.js` (not npx, whose extra shell would survive a kill), data kept under
 * BRIDGE_DATA_DIR/azurite; telemetry off and the API version check off (docs/design/toolchain.md §6).
 */
export function azuritePlan(w: Wiring): ProcessPlan {
  const p = w.azurite;
  return {
    script: join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'azurite.js'),
    args: [
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--location',
      join(w.settings.dataDir, 'azurite'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(p.blob),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(p.queue),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(p.table),
    ],
    env: withoutSecrets(w.settings.inheritedEnv),
  };
}

export function sandboxPlan(w: Wiring): ProcessPlan {
  if (!w.sandbox) throw new Error('sandboxPlan needs the sandbox wiring');
  return {
    script: join(REPO_ROOT, 'dev', 'graph-sandbox', 'main.ts'),
    args: [
      '--host',
      '127.0.0.1',
      '--port',
      String(w.sandbox.port),
      '--data-dir',
      join(w.settings.dataDir, 'graph-sandbox'),
      '--cert',
      w.sandbox.certPath,
      '--key',
      w.sandbox.keyPath,
    ],
    env: withoutSecrets(w.settings.inheritedEnv),
  };
}

export function functionHostPlan(w: Wiring): ProcessPlan {
  const s = w.settings;
  const env: Record<string, string | undefined> = {
    ...withoutSecrets(s.inheritedEnv),
    AzureWebJobsStorage: azuriteConnectionString(w.azurite),
    BRIDGE_SITE_SECRETS: JSON.stringify({ [s.siteId]: w.secrets.read(w.secrets.siteSecretFile) }),
    BRIDGE_LOCAL_FUNCTION_KEY: w.secrets.read(w.secrets.functionKeyFile),
    BRIDGE_LOCAL_FUNCTION_HOST: '127.0.0.1',
    BRIDGE_LOCAL_FUNCTION_PORT: String(w.functionPort),
  };
  if (w.sandbox) {
    Object.assign(env, {
      AZURE_TENANT_ID: SANDBOX_IDENTITY.tenantId,
      AZURE_CLIENT_ID: SANDBOX_IDENTITY.clientId,
      AZURE_CLIENT_SECRET: SANDBOX_IDENTITY.clientSecret,
      AZURE_CLIENT_CERTIFICATE_PATH: undefined,
      AZURE_AUTHORITY_HOST: w.sandbox.url,
      BRIDGE_GRAPH_ENDPOINT: w.sandbox.url,
      NODE_EXTRA_CA_CERTS: w.sandbox.certPath,
    });
    if (!s.senderPolicySet) env.BRIDGE_ALLOWED_SENDERS = SANDBOX_ALLOWED_SENDERS;
  } else {
    // Live: the app registration's secret is the function's alone.
    env.AZURE_CLIENT_SECRET = s.inheritedEnv.AZURE_CLIENT_SECRET;
  }
  return { script: join(REPO_ROOT, 'dev', 'function-host', 'host-main.ts'), args: [], env };
}

export function edgePlan(w: Wiring): ProcessPlan {
  const s = w.settings;
  const env: Record<string, string | undefined> = {
    ...withoutSecrets(s.inheritedEnv),
    BRIDGE_SITE_ID: s.siteId,
    BRIDGE_FUNCTION_URL: functionUrl(w),
    BRIDGE_SITE_SECRET_FILE: w.secrets.siteSecretFile,
    BRIDGE_FUNCTION_KEY_FILE: w.secrets.functionKeyFile,
    BRIDGE_ADMIN_TOKEN_FILE: w.secrets.adminTokenFile,
    BRIDGE_DATA_DIR: s.dataDir,
    BRIDGE_SMTP_HOST: s.smtp.host,
    BRIDGE_SMTP_PORT: String(s.smtp.port),
    BRIDGE_HTTP_HOST: s.http.host,
    BRIDGE_HTTP_PORT: String(s.http.port),
    BRIDGE_SANDBOX_URL: w.sandbox?.url,
  };
  if (w.sandbox) env.NODE_EXTRA_CA_CERTS = w.sandbox.certPath;
  return { script: join(REPO_ROOT, 'edge-listener', 'main.ts'), args: [], env };
}

function withoutSecrets(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const name of SECRET_NAMES) delete out[name];
  return out;
}
