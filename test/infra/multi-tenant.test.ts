import { expect, it } from 'vitest';

import { describeWithTool } from '../helpers/tool-groups';
import { appSettings, single, snapshotMain } from './arm';

/**
 * One deployment for many tenants (docs/multi-tenant.md): the app registration is multitenant and registers
 * exactly the function's consent callback as its redirect URI; the function knows the same URI, its registry
 * table and its admin key (a Key Vault reference to a secret the operator creates).
 */
const MULTI = { multiTenant: true, functionAppName: 'func-bridge-contoso' };
const CALLBACK = 'https://func-bridge-contoso.azurewebsites.net/api/v1/consent/callback';

function application(params: Record<string, unknown>) {
  return single(snapshotMain(params).predictedResources, 'Microsoft.Graph/applications@v1.0').properties as {
    signInAudience: string;
    web: { redirectUris: string[] };
  };
}

function setting(params: Record<string, unknown>, name: string): string | undefined {
  return appSettings(snapshotMain(params)).find((s) => s.name === name)?.value;
}

describeWithTool('bicep', 'multitenant deployment', () => {
  it('registers the consent callback as the only redirect URI of the multitenant app', () => {
    expect(application(MULTI)).toMatchObject({
      signInAudience: 'AzureADMultipleOrgs',
      web: { redirectUris: [CALLBACK] },
    });
    expect(setting(MULTI, 'BRIDGE_CONSENT_REDIRECT_URI')).toBe(CALLBACK);
  });

  it('a single-tenant deployment registers no redirect URI and offers no consent flow', () => {
    expect(application({}).web.redirectUris).toEqual([]);
    expect(setting({}, 'BRIDGE_CONSENT_REDIRECT_URI')).toBe('');
  });

  it('reads the admin key from Key Vault and names the registry table', () => {
    expect(setting(MULTI, 'BRIDGE_ADMIN_KEY')).toMatch(
      /^\[format\('@Microsoft\.KeyVault\(SecretUri=\{0\}\)'.*bridge-admin-key/,
    );
    expect(setting(MULTI, 'BRIDGE_REGISTRY_TABLE')).toBe('bridgeregistry');
  });
});

describeWithTool('bicep', 'tenants workbook', () => {
  function workbooks(params: Record<string, unknown>) {
    return snapshotMain(params).predictedResources.filter(
      (r) => r.type.toLowerCase() === 'microsoft.insights/workbooks',
    );
  }

  it('is deployed with a multitenant deployment, with per-tenant and per-site figures from the logs', () => {
    const [workbook] = workbooks(MULTI);
    const data = JSON.parse((workbook?.properties as { serializedData: string }).serializedData) as {
      items: Array<{ name: string; content: { query?: string } }>;
    };
    const query = (name: string) => data.items.find((i) => i.name === name)?.content.query ?? '';
    for (const name of ['per-tenant', 'per-site']) {
      expect(query(name)).toContain('MESSAGE_HELD');
      expect(query(name)).toMatch(
        /sent = countif.*queued = countif.*held = countif.*failed = countif.*lastError/,
      );
    }
    expect(query('per-tenant')).toMatch(/by tenant \|/);
    expect(query('per-site')).toMatch(/by tenant, site/);
    expect(query('consent-changes')).toContain('TENANT_STATE_CHANGED');
  });

  it('is not deployed for a single tenant', () => {
    expect(workbooks({})).toHaveLength(0);
  });
});
