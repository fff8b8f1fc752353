import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, inject } from 'vitest';

import { loadEdgeConfig } from '../../../edge-listener/config';
import { runDoctorCommand } from '../../../edge-listener/doctor/doctor-command';
import { type EdgeListener, startEdgeListener } from '../../../edge-listener/edge';
import type { DoctorReport } from '../../../edge-listener/doctor/run-doctor';
import { loadFunctionConfig } from '../../../functions/config';
import { type LocalFunctionHost, startLocalFunctionHost } from '../../../dev/function-host/host';
import { uniqueStorageNames } from '../../functions/storage-names';
import { edgeEnv } from '../../helpers/edge-env';
import { type GraphSandbox, type SandboxOptions, startFakeGraph } from '../../helpers/fake-graph';

/**
 * The real pieces doctor walks through, on loopback: the Graph sandbox (fake Entra + Graph over https),
 * the local function host on Azurite, and an in-process edge listener for site "hq". Other sites of the
 * same function live in tenants whose consent differs, so one stack provokes most failure modes.
 */
export const FUNCTION_KEY = 'doctor-function-key-0123456789';
export const SECRETS = {
  hq: 'hq-site-secret-0123456789abcdef',
  noconsent: 'noconsent-secret-0123456789ab',
  nolarge: 'nolarge-secret-0123456789abcd',
  ghost: 'ghost-site-secret-0123456789ab',
  consented: 'consented-secret-0123456789ab',
} as const;
export type SiteId = keyof typeof SECRETS;
export const SENDER = 'scanner@contoso.com';

/** Mailboxes of the sandbox directory and the app's Exchange RBAC scope (outside@ is not in it). */
export const SANDBOX: Omit<SandboxOptions, 'cert' | 'key'> = {
  tenants: ['tenant-home', 'tenant-noconsent', 'tenant-nolarge'],
  tenantRoles: { 'tenant-noconsent': ['User.Read.All'], 'tenant-nolarge': ['Mail.Send'] },
  mailboxes: [
    SENDER,
    { address: 'unlicensed@contoso.com', licensed: false },
    'outside@contoso.com',
    'sendas@contoso.com',
    'busy@contoso.com',
  ],
  mailboxScope: [SENDER, 'unlicensed@contoso.com', 'sendas@contoso.com', 'busy@contoso.com'],
};

export interface DoctorStack {
  graph: GraphSandbox;
  host: LocalFunctionHost;
  edge: EdgeListener;
  /** The environment of the running listener, with its real SMTP port (what doctor reads on that machine). */
  env: Record<string, string>;
  dataDir: string;
  /** An extra listener (own data directory) with these settings; stopped with the stack. */
  startEdge(extra: Record<string, string>): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** The app registration the function signs in as (Exchange RBAC grants name it). */
export const APP_CLIENT_ID = '11111111-2222-3333-4444-555555555555';

export async function startDoctorStack(
  sandbox: Omit<SandboxOptions, 'cert' | 'key'> = SANDBOX,
  functionSettings: Record<string, string> = {},
): Promise<DoctorStack> {
  const graph = await startFakeGraph(sandbox);
  const names = uniqueStorageNames('doctor');
  const config = loadFunctionConfig({
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    AZURE_TENANT_ID: 'tenant-home',
    AZURE_CLIENT_ID: APP_CLIENT_ID,
    AZURE_CLIENT_SECRET: 'doctor-app-secret',
    AZURE_AUTHORITY_HOST: graph.authorityHost,
    BRIDGE_GRAPH_ENDPOINT: graph.url,
    BRIDGE_ALLOWED_SENDERS: '*@contoso.com',
    BRIDGE_DEFAULT_SENDER: SENDER,
    BRIDGE_SITES: JSON.stringify([
      { id: 'noconsent', tenantId: 'tenant-noconsent' },
      { id: 'nolarge', tenantId: 'tenant-nolarge' },
      { id: 'ghost', tenantId: 'tenant-ghost' },
      { id: 'consented', tenantId: 'tenant-consented' },
    ]),
    BRIDGE_SITE_SECRETS: JSON.stringify(SECRETS),
    BRIDGE_STATE_TABLE: names.table,
    BRIDGE_BLOB_CONTAINER: names.container,
    BRIDGE_QUEUE_NAME: names.queue,
    ...functionSettings,
  });
  const host = await startLocalFunctionHost(config, {
    functionKey: FUNCTION_KEY,
    queueTrigger: false,
    logHandler: () => undefined,
  });
  const extras: Array<{ edge: EdgeListener; dataDir: string }> = [];

  const startEdge = async (
    extra: Record<string, string>,
  ): Promise<{ edge: EdgeListener; env: Record<string, string>; dataDir: string }> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'doctor-edge-'));
    const env = edgeEnv(
      { url: host.url, siteId: 'hq', siteSecret: SECRETS.hq, functionKey: FUNCTION_KEY },
      dataDir,
      {
        BRIDGE_INSTANCE_ID: 'doctor-edge',
        // The site policy is *@contoso.com; a healthy site binds its devices (doctor warns otherwise).
        BRIDGE_SENDER_BINDINGS: 'client:127.0.0.0/8=*@contoso.com',
        BRIDGE_HTTP_PORT: undefined, // no HTTP server (http: false below): doctor sees the default port
        BRIDGE_FORWARD_BUDGET_MS: '3000',
        BRIDGE_RETRY_SCHEDULE: '200ms',
        BRIDGE_RETRY_JITTER: undefined,
        BRIDGE_SHUTDOWN_TIMEOUT_MS: '1s',
        ...extra,
      },
    );
    const loaded = loadEdgeConfig({ env });
    if ('issues' in loaded) throw new Error(`edge test config invalid: ${loaded.issues.join('; ')}`);
    const edge = await startEdgeListener(loaded.config, { http: false });
    const ports: Record<string, string> = { BRIDGE_SMTP_PORT: String(edge.smtpPort) };
    if (edge.smtpsPort !== undefined) ports.BRIDGE_SMTPS_PORT = String(edge.smtpsPort);
    return { edge, env: { ...env, ...ports }, dataDir };
  };

  const main = await startEdge({});
  return {
    graph,
    host,
    edge: main.edge,
    env: main.env,
    dataDir: main.dataDir,
    startEdge: async (extra) => {
      const started = await startEdge(extra);
      extras.push(started);
      return started.env;
    },
    close: async () => {
      for (const e of [main, ...extras]) {
        await e.edge.close();
        rmSync(e.dataDir, { recursive: true, force: true });
      }
      await host.close();
      await graph.close();
    },
  };
}

export interface DoctorRun {
  code: number;
  output: string;
  /** Parsed --json output (present when --json was given). */
  report?: DoctorReport;
}

/** Runs `doctor` the way the CLI does, against an explicit environment instead of the process's. */
export async function doctor(env: Record<string, string>, argv: string[] = []): Promise<DoctorRun> {
  let output = '';
  const code = await runDoctorCommand(['--timeout', '5', ...argv], {
    write: (t) => (output += t),
    context: () => ({ env }),
  });
  const run: DoctorRun = { code, output };
  if (argv.includes('--json')) run.report = JSON.parse(output) as DoctorReport;
  return run;
}

/** The environment of site `site` on the stack's listener machine. */
export function siteEnv(stack: DoctorStack, site: SiteId): Record<string, string> {
  return { ...stack.env, BRIDGE_SITE_ID: site, BRIDGE_SITE_SECRET: SECRETS[site] };
}

export function check(run: DoctorRun, id: string, index = 0) {
  const found = run.report?.checks.filter((c) => c.id === id)[index];
  if (!found)
    throw new Error(
      `no check ${id}[${index}] in: ${run.report?.checks.map((c) => `${c.id}:${c.status}`).join(', ')}`,
    );
  return found;
}

/** The sender-mailbox check about one address. */
export function mailboxCheck(run: DoctorRun, address: string) {
  const found = run.report!.checks.find((c) => c.id === 'sender-mailbox' && c.title.includes(address));
  if (!found) throw new Error(`no mailbox check for ${address}`);
  return found;
}

/**
 * The usual set-up of a doctor test file: one stack for the file (startDoctorStack's arguments), stopped
 * after it, and the sandbox's requests and injected faults cleared before each test. `bind` gets the stack
 * once it runs, e.g. `useDoctorStack((s) => (stack = s));`.
 */
export function useDoctorStack(
  bind: (stack: DoctorStack) => void,
  ...args: Parameters<typeof startDoctorStack>
): void {
  let stack: DoctorStack | undefined;
  beforeAll(async () => {
    stack = await startDoctorStack(...args);
    bind(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => stack?.graph.clear());
}
