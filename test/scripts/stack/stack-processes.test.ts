import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ensureLocalSecrets } from '../../../scripts/stack/local-secrets';
import { loadStackSettings, type StackSettings } from '../../../scripts/stack/stack-config';
import {
  azuritePlan,
  edgePlan,
  functionHostPlan,
  sandboxPlan,
  type Wiring,
} from '../../../scripts/stack/stack-processes';

/** Which process gets which secret and setting: the wiring of `npm start`, without starting anything. */
function wiring(env: Record<string, string>, sandbox: boolean): Wiring {
  const dataDir = mkdtempSync(join(tmpdir(), 'wiring-'));
  const loaded = loadStackSettings({ BRIDGE_DATA_DIR: dataDir, ...env }, '/');
  if ('issues' in loaded) throw new Error(loaded.issues.join());
  const settings: StackSettings = loaded.settings;
  const w: Wiring = {
    settings,
    secrets: ensureLocalSecrets(dataDir),
    azurite: { blob: 41001, queue: 41002, table: 41003 },
    functionPort: 47071,
  };
  if (sandbox)
    w.sandbox = {
      port: 48443,
      url: 'https://127.0.0.1:48443',
      certPath: join(dataDir, 'tls', 'cert.pem'),
      keyPath: join(dataDir, 'tls', 'key.pem'),
    };
  return w;
}

describe('npm start wiring', () => {
  it('points the function at the sandbox for tokens and Graph, trusting its certificate, with a permissive sender policy', () => {
    const w = wiring({}, true);
    const env = functionHostPlan(w).env;
    expect(env).toMatchObject({
      AZURE_AUTHORITY_HOST: 'https://127.0.0.1:48443',
      BRIDGE_GRAPH_ENDPOINT: 'https://127.0.0.1:48443',
      NODE_EXTRA_CA_CERTS: w.sandbox?.certPath,
      BRIDGE_ALLOWED_SENDERS: '*',
      BRIDGE_LOCAL_FUNCTION_PORT: '47071',
    });
    expect(env.AzureWebJobsStorage).toContain('QueueEndpoint=http://127.0.0.1:41002/devstoreaccount1');
    expect(JSON.parse(env.BRIDGE_SITE_SECRETS ?? '{}')).toEqual({
      local: w.secrets.read(w.secrets.siteSecretFile),
    });
    expect(env.BRIDGE_LOCAL_FUNCTION_KEY).toBe(w.secrets.read(w.secrets.functionKeyFile));
    expect(edgePlan(w).env).toMatchObject({
      BRIDGE_SANDBOX_URL: 'https://127.0.0.1:48443',
      NODE_EXTRA_CA_CERTS: w.sandbox?.certPath,
      BRIDGE_FUNCTION_URL: 'http://127.0.0.1:47071',
    });
    expect(sandboxPlan(w).args).toEqual(
      expect.arrayContaining(['--data-dir', join(w.settings.dataDir, 'graph-sandbox'), '--port', '48443']),
    );
  });

  it('keeps a sender policy the admin set, also in the sandbox', () => {
    expect(
      functionHostPlan(wiring({ BRIDGE_ALLOWED_SENDERS: '*@contoso.com' }, true)).env.BRIDGE_ALLOWED_SENDERS,
    ).toBe('*@contoso.com');
  });

  it('gives the client secret to the function only, and the edge its secrets as files', () => {
    const w = wiring(
      {
        AZURE_TENANT_ID: 't',
        AZURE_CLIENT_ID: 'c',
        AZURE_CLIENT_SECRET: 'the-client-secret',
        BRIDGE_SITE_SECRET: 'stale-secret-from-the-shell',
      },
      false,
    );
    expect(functionHostPlan(w).env).toMatchObject({
      AZURE_CLIENT_SECRET: 'the-client-secret',
      AZURE_TENANT_ID: 't',
    });
    expect(functionHostPlan(w).env.AZURE_AUTHORITY_HOST).toBeUndefined();
    const edge = edgePlan(w).env;
    expect(edge.AZURE_CLIENT_SECRET).toBeUndefined();
    expect(edge.BRIDGE_SITE_SECRET).toBeUndefined(); // the file wins; both set would be a config error
    expect(edge).toMatchObject({
      BRIDGE_SITE_SECRET_FILE: w.secrets.siteSecretFile,
      BRIDGE_FUNCTION_KEY_FILE: w.secrets.functionKeyFile,
      BRIDGE_ADMIN_TOKEN_FILE: w.secrets.adminTokenFile,
    });
    expect(edge.BRIDGE_SANDBOX_URL).toBeUndefined();
    for (const plan of [azuritePlan(w), edgePlan(w)])
      expect(JSON.stringify(plan)).not.toContain('the-client-secret');
  });

  it('runs Azurite on the data directory with telemetry off', () => {
    const w = wiring({}, true);
    const args = azuritePlan(w).args;
    expect(args).toEqual(
      expect.arrayContaining([
        '--disableTelemetry',
        '--skipApiVersionCheck',
        '--location',
        join(w.settings.dataDir, 'azurite'),
        '--tablePort',
        '41003',
      ]),
    );
    expect(args).not.toContain('--inMemoryPersistence');
  });
});
