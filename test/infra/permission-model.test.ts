import { expect, it } from 'vitest';

import { allResources, compiledMain, ofType, single, snapshotMain } from './arm';
import { describeWithTool } from '../helpers/tool-groups';

// Entra consent and Exchange RBAC for Applications add up (docs/design/platform-facts.md §A5): with 'exchangeRbac' the
// deployment must grant nothing in Entra, or the Exchange scope would be no limit at all.
const grantsFor = (params: Record<string, unknown>) => {
  const resources = snapshotMain(params).predictedResources;
  return {
    assignments: ofType(resources, 'Microsoft.Graph/appRoleAssignedTo@v1.0').map(
      (r) => r.properties as Record<string, string>,
    ),
    declared: (
      single(resources, 'Microsoft.Graph/applications@v1.0').properties as { requiredResourceAccess: unknown }
    ).requiredResourceAccess,
  };
};

describeWithTool('bicep', 'mail permission model', () => {
  it('defaults to exchangeRbac, the least-privilege model', () => {
    expect(compiledMain().parameters?.mailPermissionModel?.defaultValue).toBe('exchangeRbac');
    expect(grantsFor({}).assignments).toEqual([]);
  });

  it('exchangeRbac grants no Graph permission and declares none that a consent click could grant', () => {
    const { assignments, declared } = grantsFor({ mailPermissionModel: 'exchangeRbac' });
    expect(assignments).toEqual([]);
    expect(declared).toEqual([]);
  });

  it('tenantWideConsent grants Mail.Send and Mail.ReadWrite on Microsoft Graph to the app', () => {
    const { assignments, declared } = grantsFor({ mailPermissionModel: 'tenantWideConsent' });
    expect(assignments).toHaveLength(2);
    const roleIds = assignments.map((a) => a.appRoleId).join('\n');
    expect(roleIds).toContain("'Mail.Send'");
    expect(roleIds).toContain("'Mail.ReadWrite'");
    for (const assignment of assignments) {
      expect(assignment.principalId).toBe("[reference('servicePrincipal').id]");
      expect(assignment.resourceId).toBe("[reference('graphServicePrincipal').id]");
    }
    expect(JSON.stringify(declared)).toContain("reference('graphServicePrincipal').appId");
  });

  it('tenantWideConsent without large-message support grants Mail.Send and Mail.ReadBasic (the Sent Items look-up)', () => {
    const { assignments } = grantsFor({
      mailPermissionModel: 'tenantWideConsent',
      enableLargeMessages: false,
    });
    expect(assignments).toHaveLength(2);
    const roleIds = assignments.map((a) => a.appRoleId).join('\n');
    expect(roleIds).toContain("'Mail.Send'");
    expect(roleIds).toContain("'Mail.ReadBasic'");
    expect(roleIds).not.toContain("'Mail.ReadWrite'");
  });

  it("looks the Graph app roles up on Microsoft Graph's own service principal, not by copied GUIDs", () => {
    const graphSp = allResources(compiledMain()).find(
      (r) => r.existing === true && r.type === 'Microsoft.Graph/servicePrincipals@v1.0',
    );
    expect(graphSp?.properties).toEqual({ appId: '00000003-0000-0000-c000-000000000000' });
  });

  it('refuses a model it does not know', () => {
    expect(compiledMain().parameters?.mailPermissionModel?.allowedValues).toEqual([
      'exchangeRbac',
      'tenantWideConsent',
    ]);
  });
});

describeWithTool('bicep', 'fixed outbound IP (optional VNet integration)', () => {
  const networkTypes = [
    'Microsoft.Network/virtualNetworks',
    'Microsoft.Network/natGateways',
    'Microsoft.Network/publicIPAddresses',
  ];

  it('is off by default: no network resources and no subnet on the app', () => {
    const resources = snapshotMain().predictedResources;
    for (const type of networkTypes) expect(ofType(resources, type), type).toEqual([]);
  });

  it('with vnetEnabled, routes the app through a delegated subnet behind a NAT gateway with a static IP', () => {
    const resources = snapshotMain({ vnetEnabled: true }).predictedResources;
    for (const type of networkTypes) expect(ofType(resources, type), type).toHaveLength(1);
    expect(
      (single(resources, 'Microsoft.Network/publicIPAddresses').properties as Record<string, unknown>)
        .publicIPAllocationMethod,
    ).toBe('Static');
    const subnets = (
      single(resources, 'Microsoft.Network/virtualNetworks').properties as {
        subnets: Array<{ properties: Record<string, unknown> }>;
      }
    ).subnets;
    // The integration subnet, and the subnet of the private endpoints (security.test.ts).
    expect(subnets).toHaveLength(2);
    expect(JSON.stringify(subnets[0]?.properties.delegations)).toContain('Microsoft.App/environments');
    expect(subnets[1]?.properties.delegations).toBeUndefined();
    expect(JSON.stringify(subnets[0]?.properties.natGateway)).toContain('natGateways');
    expect(
      (single(resources, 'Microsoft.Web/sites').properties as Record<string, unknown>).virtualNetworkSubnetId,
    ).toContain('appSubnetId');
  });
});

describeWithTool(
  'bicep',
  'custody: failed bodies kept for the retention period, nothing kept forever',
  () => {
    const rules = (params: Record<string, unknown> = {}) => {
      const policy = single(
        snapshotMain(params).predictedResources,
        'Microsoft.Storage/storageAccounts/managementPolicies',
      ).properties as {
        policy: {
          rules: Array<{ name: string; definition: { filters: Record<string, unknown>; actions: unknown } }>;
        };
      };
      return policy.policy.rules;
    };
    const deleteAfter = (rule: { definition: { actions: unknown } }) =>
      (rule.definition.actions as { baseBlob: { delete: { daysAfterModificationGreaterThan: unknown } } })
        .baseBlob.delete.daysAfterModificationGreaterThan;

    it('deletes a failed message body (index tag bridge-state=failed) retentionDays after it failed', () => {
      const [failed] = rules({ retentionDays: 9 });
      expect(failed?.definition.filters).toMatchObject({
        prefixMatch: ['bridge-messages/'],
        blobIndexMatch: [{ name: 'bridge-state', op: '==', value: 'failed' }],
      });
      expect(deleteAfter(failed!)).toBe(9);
    });

    it('deletes any other leftover only after horizon + retention + 1 day, never a message still queued', () => {
      const backstop = rules({ maxQueueAgeDays: 5, retentionDays: 5 })[1];
      expect(backstop?.definition.filters).not.toHaveProperty('blobIndexMatch');
      expect(deleteAfter(backstop!)).toBe(11);
    });

    it('sets the horizon app setting from maxQueueAgeDays (default 5 days, as the edge)', () => {
      expect(compiledMain().parameters?.maxQueueAgeDays?.defaultValue).toBe(5);
      expect(compiledMain().parameters?.retentionDays?.defaultValue).toBe(5);
    });
  },
);
