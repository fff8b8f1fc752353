import { expect, it } from 'vitest';

import type { ArmResource } from '../../scripts/bicep/bicep-cli';
import {
  allResources,
  allTemplates,
  appSettings,
  compiledMain,
  compiledMainText,
  isExpression,
  ofType,
  single,
  snapshotMain,
} from './arm';
import { describeWithTool } from '../helpers/tool-groups';

// Evaluated for the default parameters; every property asserted below is fixed in the templates, not a
// parameter, so no choice of parameters can weaken it.
const resources = () => snapshotMain().predictedResources;
// One non-default parameter set for the switches below (each snapshot costs a Bicep CLI run).
const VARIANT = { principalId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', multiTenant: true };
const props = (type: string) => single(resources(), type).properties as Record<string, unknown>;

describeWithTool('bicep', 'function app', () => {
  it('answers HTTPS only, with TLS 1.2 or later on the app and its SCM site, and no FTP', () => {
    const site = props('Microsoft.Web/sites');
    expect(site.httpsOnly).toBe(true);
    const config = site.siteConfig as Record<string, unknown>;
    expect(['1.2', '1.3']).toContain(config.minTlsVersion);
    expect(['1.2', '1.3']).toContain(config.scmMinTlsVersion);
    expect(config.ftpsState).toBe('Disabled');
  });

  it('turns basic publishing credentials off for both FTP and SCM', () => {
    const policies = ofType(resources(), 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(policies.map((p) => String(p.name).split('/').pop()).sort()).toEqual(['ftp', 'scm']);
    for (const policy of policies) expect(policy.properties).toEqual({ allow: false });
  });

  it('runs Node 22 on Flex Consumption and pulls its package with the managed identity', () => {
    const plan = single(resources(), 'Microsoft.Web/serverfarms');
    expect(plan.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    const flex = props('Microsoft.Web/sites').functionAppConfig as {
      runtime: unknown;
      deployment: { storage: { type: string; authentication: { type: string } } };
    };
    expect(flex.runtime).toEqual({ name: 'node', version: '22' });
    expect(flex.deployment.storage.type).toBe('blobContainer');
    expect(flex.deployment.storage.authentication.type).toBe('UserAssignedIdentity');
  });

  it('has only the user-assigned identity, which also resolves Key Vault references', () => {
    const site = single(resources(), 'Microsoft.Web/sites');
    const identity = site.identity as { type: string; userAssignedIdentities: Record<string, unknown> };
    expect(identity.type).toBe('UserAssigned');
    const [identityId] = Object.keys(identity.userAssignedIdentities);
    expect(identityId).toContain('outputs.id.value');
    expect((site.properties as Record<string, unknown>).keyVaultReferenceIdentity).toBe(
      identityId!.replace(/^\[format\('\{0\}', (.*)\)\]$/, '[$1]'),
    );
  });

  it('connects to storage by identity: no connection string, no key anywhere in its settings', () => {
    const settings = new Map(appSettings(snapshotMain()).map((s) => [s.name, s.value]));
    expect(settings.has('AzureWebJobsStorage')).toBe(false);
    expect(settings.get('AzureWebJobsStorage__credential')).toBe('managedidentity');
    for (const suffix of ['clientId', 'blobServiceUri', 'queueServiceUri', 'tableServiceUri']) {
      expect(isExpression(settings.get(`AzureWebJobsStorage__${suffix}`)), suffix).toBe(true);
    }
    for (const [name, value] of settings)
      expect(value, name).not.toMatch(/AccountKey|SharedAccessSignature|listKeys|listSecrets/i);
  });

  it('reads the site secrets through a Key Vault reference, never as a value', () => {
    const value = appSettings(snapshotMain()).find((s) => s.name === 'BRIDGE_SITE_SECRETS')?.value;
    expect(value).toMatch(
      /^\[format\('@Microsoft\.KeyVault\(SecretUri=\{0\}\)', format\('\{0\}secrets\/\{1\}', .*outputs\.vaultUri\.value, 'bridge-site-secrets'\)\)\]$/,
    );
  });
});

describeWithTool('bicep', 'storage, monitoring, key vault', () => {
  it('storage refuses shared keys, anonymous blobs and plain HTTP, and needs TLS 1.2', () => {
    const storage = props('Microsoft.Storage/storageAccounts');
    expect(storage).toMatchObject({
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      supportsHttpsTrafficOnly: true,
      minimumTlsVersion: 'TLS1_2',
      defaultToOAuthAuthentication: true,
    });
    for (const container of ofType(
      resources(),
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    )) {
      expect(container.properties).toEqual({ publicAccess: 'None' });
    }
  });

  it('Application Insights and Log Analytics accept Entra-authenticated ingestion only', () => {
    expect(props('Microsoft.Insights/components').DisableLocalAuth).toBe(true);
    expect(
      (props('Microsoft.OperationalInsights/workspaces').features as Record<string, unknown>)
        .disableLocalAuth,
    ).toBe(true);
  });

  it('Key Vault authorizes with Azure RBAC, without access policies', () => {
    const vault = props('Microsoft.KeyVault/vaults');
    expect(vault.enableRbacAuthorization).toBe(true);
    expect(vault).not.toHaveProperty('accessPolicies');
  });

  it('gives the managed identity data-plane roles only, never Owner or Contributor', () => {
    const roleIds = ofType(resources(), 'Microsoft.Authorization/roleAssignments')
      .map((r) =>
        String((r.properties as Record<string, unknown>).roleDefinitionId)
          .split('/')
          .pop()
          ?.replace(/'.*$/, ''),
      )
      .sort();
    expect(roleIds).toEqual(
      [
        'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', // Storage Blob Data Owner
        '974c5e8b-45b9-4653-ba55-5f855dd0fb88', // Storage Queue Data Contributor
        '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', // Storage Table Data Contributor
        '3913510d-42f4-4e42-8a64-420c390055eb', // Monitoring Metrics Publisher
        '4633458b-17de-408a-b874-0445c86b69e6', // Key Vault Secrets User
      ].sort(),
    );
  });

  it('gives the deploying admin Key Vault Secrets Officer only when a principal id is passed', () => {
    const count = (params: Record<string, unknown>) =>
      ofType(snapshotMain(params).predictedResources, 'Microsoft.Authorization/roleAssignments').filter((r) =>
        String((r.properties as Record<string, unknown>).roleDefinitionId).includes(
          'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
        ),
      ).length;
    expect(count({})).toBe(0);
    expect(count(VARIANT)).toBe(1);
  });
});

describeWithTool('bicep', 'network access to storage and Key Vault', () => {
  type Acl = { publicNetworkAccess?: string; networkAcls?: { defaultAction?: string } };
  const access = (resources: ArmResource[], type: string) => {
    const p = single(resources, type).properties as Acl;
    return [p.publicNetworkAccess, p.networkAcls?.defaultAction];
  };
  const privateTypes = [
    'Microsoft.Network/privateEndpoints',
    'Microsoft.Network/privateDnsZones',
    'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
    'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
  ];

  it('without vnetEnabled (the default) keeps the public endpoints, reached by identity only, and creates no private endpoint', () => {
    const resources = snapshotMain().predictedResources;
    expect(access(resources, 'Microsoft.Storage/storageAccounts')).toEqual(['Enabled', 'Allow']);
    expect(access(resources, 'Microsoft.KeyVault/vaults')).toEqual(['Enabled', 'Allow']);
    for (const type of privateTypes) expect(ofType(resources, type), type).toEqual([]);
  });

  it('with vnetEnabled, storage and Key Vault refuse every public network', () => {
    const resources = snapshotMain({ vnetEnabled: true }).predictedResources;
    expect(access(resources, 'Microsoft.Storage/storageAccounts')).toEqual(['Disabled', 'Deny']);
    expect(access(resources, 'Microsoft.KeyVault/vaults')).toEqual(['Disabled', 'Deny']);
  });

  it('with vnetEnabled, blob, queue, table and vault each get a private endpoint in the endpoint subnet, registered in its privatelink zone linked to the VNet', () => {
    const resources = snapshotMain({ vnetEnabled: true }).predictedResources;
    type Endpoint = {
      subnet: { id: string };
      privateLinkServiceConnections: Array<{
        properties: { privateLinkServiceId: string; groupIds: string[] };
      }>;
    };
    const endpoints = ofType(resources, 'Microsoft.Network/privateEndpoints').map((e) => ({
      name: e.name,
      ...(e.properties as Endpoint),
    }));
    const byGroup = Object.fromEntries(
      endpoints.map((e) => [e.privateLinkServiceConnections[0]?.properties.groupIds.join(','), e]),
    );
    expect(Object.keys(byGroup).sort()).toEqual(['blob', 'queue', 'table', 'vault']);
    for (const group of ['blob', 'queue', 'table'])
      expect(byGroup[group]?.privateLinkServiceConnections[0]?.properties.privateLinkServiceId).toMatch(
        /'storage-.*outputs\.id\.value/,
      );
    expect(byGroup.vault?.privateLinkServiceConnections[0]?.properties.privateLinkServiceId).toMatch(
      /'keyVault-.*outputs\.id\.value/,
    );
    for (const e of endpoints) expect(e.subnet.id).toContain('outputs.privateEndpointSubnetId.value');

    // The zones ARM resolves per cloud: privatelink.{blob,queue,table}.core.windows.net and
    // privatelink.vaultcore.azure.net in the public cloud.
    const zoneNames = ofType(resources, 'Microsoft.Network/privateDnsZones').map((z) => z.name);
    expect(zoneNames).toEqual([
      "[format('privatelink.blob.{0}', environment().suffixes.storage)]",
      "[format('privatelink.queue.{0}', environment().suffixes.storage)]",
      "[format('privatelink.table.{0}', environment().suffixes.storage)]",
      "[format('privatelink{0}', replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.'))]",
    ]);
    for (const z of ofType(resources, 'Microsoft.Network/privateDnsZones')) expect(z.location).toBe('global');
    const links = ofType(resources, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
    expect(links).toHaveLength(4);
    for (const link of links) {
      expect(link.properties).toMatchObject({ registrationEnabled: false });
      expect(JSON.stringify(link.properties)).toContain('outputs.vnetId.value');
    }
    // Each endpoint registers its address in the zone of its own service.
    const groups = ofType(resources, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    expect(groups).toHaveLength(4);
    for (const g of groups) {
      const endpoint = String(g.name).split('/')[0];
      const group = endpoints.find((e) => e.name === endpoint)?.privateLinkServiceConnections[0]?.properties
        .groupIds[0];
      const zoneId = (
        g.properties as { privateDnsZoneConfigs: Array<{ properties: { privateDnsZoneId: string } }> }
      ).privateDnsZoneConfigs[0]?.properties.privateDnsZoneId;
      expect(zoneId).toContain(group === 'vault' ? "'.vault.', '.vaultcore.'" : `privatelink.${group}.`);
    }
  });

  it('the switch is vnetEnabled itself in the compiled template: no second knob can leave public access on', () => {
    const deployments = allResources(compiledMain()).filter(
      (r) => r.type === 'Microsoft.Resources/deployments',
    );
    const param = (name: string) =>
      (
        deployments.find((d) => String(d.name).startsWith(`[format('${name}-`))?.properties as {
          parameters: Record<string, { value: unknown }>;
        }
      ).parameters.denyPublicNetworkAccess?.value;
    expect(param('storage')).toBe("[parameters('vnetEnabled')]");
    expect(param('keyVault')).toBe("[parameters('vnetEnabled')]");
    const endpoints = deployments.find((d) => String(d.name).startsWith("[format('privateEndpoints-"));
    expect(endpoints?.condition).toBe("[parameters('vnetEnabled')]");
  });
});

describeWithTool('bicep', 'no secrets in the template', () => {
  it('calls no list*() function anywhere (no keys read, so none can leak into settings or outputs)', () => {
    expect(compiledMainText()).not.toMatch(/\blist[A-Z]\w*\(/);
  });

  it('no output of any module or of main carries a secure parameter or a secret-looking value', () => {
    for (const template of allTemplates(compiledMain())) {
      const secure = Object.entries(template.parameters ?? {})
        .filter(([, p]) => /^secure/i.test(p.type))
        .map(([n]) => n);
      for (const [name, output] of Object.entries(template.outputs ?? {})) {
        const text = JSON.stringify(output.value);
        for (const param of secure) expect(text, name).not.toContain(`parameters('${param}')`);
        expect(text, name).not.toMatch(/AccountKey|SharedAccessSignature|sig=|client_secret/i);
      }
    }
  });

  it('secure parameters have no default but empty, and no plain parameter defaults to a secret', () => {
    for (const template of allTemplates(compiledMain())) {
      for (const [name, param] of Object.entries(template.parameters ?? {})) {
        if (/^secure/i.test(param.type) && 'defaultValue' in param) expect(param.defaultValue, name).toBe('');
        expect(JSON.stringify(param.defaultValue ?? ''), name).not.toMatch(
          /AccountKey|SharedAccessSignature|sig=|password|BEGIN [A-Z ]*PRIVATE KEY/i,
        );
      }
    }
  });

  it('the site secrets parameter is secure and written to Key Vault only when given', () => {
    expect(compiledMain().parameters?.siteSecrets?.type).toBe('securestring');
    const secret = allResources(compiledMain()).find((r) => r.type === 'Microsoft.KeyVault/vaults/secrets');
    expect(secret?.condition).toBe("[not(empty(parameters('siteSecrets')))]");
  });
});

describeWithTool('bicep', 'Entra app registration', () => {
  const graph = (type: string) => ofType(resources(), `Microsoft.Graph/${type}@v1.0`);

  it('has no client secret and no certificate: its only credential trusts the managed identity', () => {
    const [application] = graph('applications');
    const app = application?.properties as Record<string, unknown>;
    expect(app).not.toHaveProperty('passwordCredentials');
    expect(app).not.toHaveProperty('keyCredentials');
    const [fic] = graph('applications/federatedIdentityCredentials');
    const credential = fic?.properties as { audiences: string[]; issuer: string; subject: string };
    expect(credential.audiences).toEqual(['api://AzureADTokenExchange']);
    expect(credential.issuer).toMatch(
      /^\[format\('\{0\}\{1\}\/v2\.0', environment\(\)\.authentication\.loginEndpoint, '[0-9a-f-]{36}'\)\]$/,
    );
    expect(credential.subject).toMatch(/^\[reference\(.*'identity-.*outputs\.principalId\.value\]$/);
  });

  it('is single-tenant unless multiTenant is set', () => {
    const audience = (params: Record<string, unknown>) =>
      (
        single(snapshotMain(params).predictedResources, 'Microsoft.Graph/applications@v1.0')
          .properties as Record<string, unknown>
      ).signInAudience;
    expect(audience({})).toBe('AzureADMyOrg');
    expect(audience(VARIANT)).toBe('AzureADMultipleOrgs');
  });
});
