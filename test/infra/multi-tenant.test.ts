import { describe, expect, it } from 'vitest';

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

describe('multitenant deployment', () => {
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
