import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import { bridgeError } from '../../../core/errors';
import { loadFunctionConfig } from '../../../functions/config';
import {
  validSecrets,
  type SiteRecord,
  type TenantRecord,
} from '../../../functions/tenants/registry-records';
import {
  NO_MAIL_ROLE,
  revocationOfToken,
  revocationOfTokenError,
} from '../../../functions/tenants/revocation';
import { resolveSite } from '../../../functions/tenants/site-directory';
import { adminConsentUrl } from '../../../functions/tenants/onboarding-text';
import { stepsFor } from '../../../functions/tenants/registry-admin';
import { takeSiteRate } from '../../../functions/tenants/site-rate-limit';
import { TenantRegistry } from '../../../functions/tenants/tenant-registry';
import { uniqueStorageNames } from '../storage-names';

function registry(): TenantRegistry {
  const table = TableClient.fromConnectionString(
    inject('azuriteConnectionString'),
    uniqueStorageNames('registry').table,
    { allowInsecureConnection: true },
  );
  return new TenantRegistry(table);
}

const T0 = '2026-12-01T00:00:00.000Z';

function tenant(over: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId: '11111111-1111-1111-1111-111111111111',
    displayName: 'Contoso',
    permissionModel: 'tenantWideConsent',
    consent: 'pending',
    consentChangedAt: T0,
    createdAt: T0,
    ...over,
  };
}

function site(over: Partial<SiteRecord> = {}): SiteRecord {
  return {
    siteId: 'contoso-hq',
    tenantId: '11111111-1111-1111-1111-111111111111',
    allowedSenders: ['scanner@contoso.com'],
    defaultSender: 'noreply@contoso.com',
    secrets: [{ version: 1, secret: 'registry-secret-0123456789abcdef', createdAt: T0 }],
    enabled: true,
    createdAt: T0,
    ...over,
  };
}

describe('tenant registry (Table Storage, Azurite)', () => {
  it('stores, lists, updates and removes tenants with their consent and token facts', async () => {
    const r = registry();
    await r.addTenant(tenant());
    await expect(r.addTenant(tenant())).rejects.toMatchObject({ code: 'ADMIN_REQUEST_INVALID' });
    const updated = await r.updateTenant('11111111-1111-1111-1111-111111111111', () => ({
      consent: 'revoked',
      lastTokenErrorCode: 'AADSTS7000229',
      lastTokenFailureAt: '2026-12-02T00:00:00.000Z',
    }));
    expect(updated).toMatchObject({ consent: 'revoked', lastTokenErrorCode: 'AADSTS7000229' });
    expect(await r.getTenant('11111111-1111-1111-1111-111111111111')).toMatchObject({
      displayName: 'Contoso',
      permissionModel: 'tenantWideConsent',
      consent: 'revoked',
      lastTokenFailureAt: '2026-12-02T00:00:00.000Z',
    });
    expect((await r.listTenants()).map((t) => t.tenantId)).toEqual(['11111111-1111-1111-1111-111111111111']);
    expect(await r.updateTenant('22222222-2222-2222-2222-222222222222', () => ({}))).toBeUndefined();
    expect(await r.removeTenant('11111111-1111-1111-1111-111111111111')).toBe(true);
    expect(await r.getTenant('11111111-1111-1111-1111-111111111111')).toBeUndefined();
  });

  it('stores sites with their senders, bindings, secret versions, switch and rate', async () => {
    const r = registry();
    await r.addSite(site({ deviceBindings: { 'mfp-3f': ['scanner@contoso.com'] }, ratePerMinute: 10 }));
    await r.addSite(site({ siteId: 'fabrikam-hq', tenantId: '22222222-2222-2222-2222-222222222222' }));
    expect(await r.getSite('contoso-hq')).toMatchObject({
      allowedSenders: ['scanner@contoso.com'],
      deviceBindings: { 'mfp-3f': ['scanner@contoso.com'] },
      ratePerMinute: 10,
      enabled: true,
    });
    expect((await r.listSites('22222222-2222-2222-2222-222222222222')).map((s) => s.siteId)).toEqual([
      'fabrikam-hq',
    ]);
    await r.updateSite('contoso-hq', () => ({ enabled: false }));
    expect((await r.getSite('contoso-hq'))?.enabled).toBe(false);
  });

  it('keeps an old secret valid only inside its overlap window', () => {
    const s = site({
      secrets: [
        { version: 1, secret: 'old', createdAt: T0, validUntil: '2026-12-02T00:00:00.000Z' },
        { version: 2, secret: 'new', createdAt: '2026-12-01T12:00:00.000Z' },
      ],
    });
    expect(validSecrets(s, new Date('2026-12-01T13:00:00Z'))).toEqual(['new', 'old']);
    expect(validSecrets(s, new Date('2026-12-02T00:00:01Z'))).toEqual(['new']);
  });
});

describe('site directory: registry and app settings', () => {
  const config = loadFunctionConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    AZURE_TENANT_ID: 'home-tenant',
    BRIDGE_ALLOWED_SENDERS: '*@home.example',
    BRIDGE_SITES: JSON.stringify([{ id: 'contoso-hq', tenantId: 'settings-tenant' }]),
    BRIDGE_SITE_SECRETS: JSON.stringify({
      'contoso-hq': 'settings-secret-0123456789',
      legacy: 'legacy-secret-0123456789',
    }),
  });

  it('takes a registered site from the registry as a whole, others from the settings, unknown ones not at all', async () => {
    const r = registry();
    await r.addSite(site());
    const now = new Date();
    expect(await resolveSite(config, r, 'contoso-hq', now)).toEqual({
      siteId: 'contoso-hq',
      source: 'registry',
      secrets: ['registry-secret-0123456789abcdef'],
      enabled: true,
      allowedSenders: ['scanner@contoso.com'],
      defaultSender: 'noreply@contoso.com',
      tenantId: '11111111-1111-1111-1111-111111111111',
    });
    expect(await resolveSite(config, r, 'legacy', now)).toEqual({
      siteId: 'legacy',
      source: 'settings',
      secrets: ['legacy-secret-0123456789'],
      enabled: true,
      allowedSenders: ['*@home.example'],
      tenantId: 'home-tenant',
    });
    expect(await resolveSite(config, r, 'nobody', now)).toBeUndefined();
  });
});

describe('per-site rate', () => {
  it('allows the rate per minute, then answers SITE_RATE_LIMITED with the wait until the window ends', async () => {
    const r = registry();
    const t = Date.parse('2026-12-01T10:00:00Z');
    expect(await takeSiteRate(r, 'a', 2, t)).toBeUndefined();
    expect(await takeSiteRate(r, 'a', 2, t + 1000)).toBeUndefined();
    const refused = await takeSiteRate(r, 'a', 2, t + 20_000);
    expect(refused).toMatchObject({ code: 'SITE_RATE_LIMITED', retryAfterMs: 40_000, retryable: true });
    expect(await takeSiteRate(r, 'b', 2, t + 20_000)).toBeUndefined(); // other sites unaffected
    expect(await takeSiteRate(r, 'a', 2, t + 60_000)).toBeUndefined(); // next window
    expect(await takeSiteRate(r, 'a', undefined, t)).toBeUndefined(); // no limit set
  });

  it('counts exactly under concurrent posts (ETag-conditional writes)', async () => {
    const r = registry();
    const t = Date.now();
    const results = await Promise.all(Array.from({ length: 8 }, () => takeSiteRate(r, 'c', 5, t)));
    expect(results.filter((x) => x === undefined)).toHaveLength(5);
  });
});

describe('revocation classification', () => {
  it.each(['AADSTS7000229', 'AADSTS700016', 'AADSTS7000112', 'AADSTS500011', 'AADSTS53003', 'AADSTS90002'])(
    '%s is a revocation',
    (code) => {
      const e = bridgeError('GRAPH_TOKEN_FAILED', { detail: `AuthenticationError invalid_client ${code}` });
      expect(revocationOfTokenError(e)?.code).toBe(code);
    },
  );

  it.each(['AADSTS7000215', 'AADSTS700027', 'AADSTS70021'])(
    '%s (our own credential) is not a revocation',
    (code) => {
      const e = bridgeError('GRAPH_TOKEN_FAILED', { detail: `AuthenticationError ${code}` });
      expect(revocationOfTokenError(e)).toBeUndefined();
    },
  );

  it('a network failure or another error code is not a revocation', () => {
    expect(
      revocationOfTokenError(bridgeError('GRAPH_UNAVAILABLE', { detail: 'AADSTS7000229' })),
    ).toBeUndefined();
    expect(
      revocationOfTokenError(bridgeError('GRAPH_TOKEN_FAILED', { detail: 'ECONNREFUSED' })),
    ).toBeUndefined();
  });

  it('a token without Mail.Send is a revocation only in the tenant-wide consent model', () => {
    expect(revocationOfToken({ roles: ['User.Read.All'] }, 'tenantWideConsent')?.code).toBe(NO_MAIL_ROLE);
    expect(revocationOfToken({ roles: ['Mail.Send'] }, 'tenantWideConsent')).toBeUndefined();
    expect(revocationOfToken({ roles: [] }, 'exchangeRbac')).toBeUndefined();
  });
});

describe('onboarding text', () => {
  const base = loadFunctionConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    AZURE_CLIENT_ID: '99999999-9999-4999-8999-999999999999',
  });
  const url = adminConsentUrl({
    authorityHost: 'https://login.microsoftonline.com/',
    tenantId: '11111111-1111-1111-1111-111111111111',
    clientId: '99999999-9999-4999-8999-999999999999',
    graphEndpoint: 'https://graph.microsoft.com',
    redirectUri: 'https://func.azurewebsites.net/api/v1/consent/callback',
    state: 'abc_-123',
  });

  it('builds the documented admin-consent URL', () => {
    expect(url).toBe(
      'https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0/adminconsent?client_id=99999999-9999-4999-8999-999999999999&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&redirect_uri=https%3A%2F%2Ffunc.azurewebsites.net%2Fapi%2Fv1%2Fconsent%2Fcallback&state=abc_-123',
    );
  });

  it('never offers the consent URL to an RBAC tenant when the app lists Mail.Send (consent would grant it tenant-wide)', () => {
    const rbacTenant = tenant({ permissionModel: 'exchangeRbac' });
    const wide = { ...base, mailPermissionModel: 'tenantWideConsent' as const };
    expect(stepsFor(wide, rbacTenant, url).join('\n')).not.toContain('adminconsent');
    expect(stepsFor(wide, rbacTenant, url).join('\n')).toContain('New-MgServicePrincipal -AppId 99999999');
    expect(stepsFor(base, rbacTenant, url).join('\n')).toContain(url);
  });

  it('gives the RBAC scoping command with this tenant’s service principal, or the lookup when it is not known yet', () => {
    const known = stepsFor(
      base,
      tenant({ permissionModel: 'exchangeRbac', servicePrincipalObjectId: 'sp-in-contoso' }),
      url,
    );
    expect(known.join('\n')).toContain('-ServicePrincipalObjectId sp-in-contoso');
    const unknown = stepsFor(base, tenant({ permissionModel: 'exchangeRbac' }), url).join('\n');
    expect(unknown).toContain('Connect-MgGraph -TenantId 11111111-1111-1111-1111-111111111111');
    expect(unknown).not.toContain('-ServicePrincipalObjectId');
  });
});
