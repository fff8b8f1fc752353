import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEFAULT_MAX_QUEUE_AGE_MS } from '../../core/custody';
import { BridgeError } from '../../core/errors';
import {
  checkFunctionConfig,
  FUNCTION_SETTING_NAMES,
  loadFunctionConfig,
  siteSettings,
} from '../../functions/config';
import { DEFAULT_TUNING } from '../../functions/function-services';

const AZURITE = 'UseDevelopmentStorage=true';
const root = join(__dirname, '..', '..');

describe('function configuration', () => {
  it('applies the documented defaults when only storage is set', () => {
    const c = loadFunctionConfig({ AzureWebJobsStorage: AZURITE });
    expect(c.graphEndpoint).toBe('https://graph.microsoft.com');
    expect(c.identity.authorityHost).toBe('https://login.microsoftonline.com');
    expect(c.maxMessageBytes).toBe(35 * 1024 * 1024);
    expect(c.syncMaxBytes).toBe(3 * 1024 * 1024);
    expect(c.syncBudgetMs).toBe(20_000);
    expect(c.saveToSentItems).toBe(true);
    expect(c.stateTable).toBe('bridgemessages');
    expect(c.blobContainer).toBe('bridge-messages');
    expect(c.queueName).toBe('bridge-outbound');
    expect(c.mailboxConcurrency).toBe(4);
    expect(c.mailboxPerMinute).toBe(30);
    expect(c.logLevel).toBe('info');
    expect(c.sites).toEqual([]);
    expect(c.siteSecrets).toEqual({});
    expect(c.identity.tenantId).toBeUndefined();
    expect(c.storage).toEqual({ kind: 'connectionString', connectionString: AZURITE });
  });

  it('names an unresolved Key Vault reference as such, beside every other problem', () => {
    const reference =
      '@Microsoft.KeyVault(SecretUri=https://kv-bridge.vault.azure.net/secrets/bridge-site-secrets/)';
    let error: unknown;
    try {
      loadFunctionConfig({
        AzureWebJobsStorage: AZURITE,
        BRIDGE_SITE_SECRETS: reference,
        BRIDGE_SYNC_BUDGET_MS: 'soon',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).code).toBe('CONFIG_INVALID');
    expect((error as BridgeError).detail).toContain(
      'BRIDGE_SITE_SECRETS: its Key Vault reference is not resolved',
    );
    expect((error as BridgeError).detail).toContain('BRIDGE_SYNC_BUDGET_MS');
    expect((error as BridgeError).detail).not.toContain('JSON');
    // the reference alone is also reported, and the secret's URI is not repeated anywhere
    expect(() =>
      loadFunctionConfig({ AzureWebJobsStorage: AZURITE, BRIDGE_SITE_SECRETS: reference }),
    ).toThrow(/Key Vault reference is not resolved.*docs\/deploy\.md/);
    expect((error as BridgeError).detail).not.toContain('kv-bridge');
  });

  it('parses sizes, durations, lists and JSON settings', () => {
    const c = loadFunctionConfig({
      AzureWebJobsStorage: AZURITE,
      BRIDGE_MAX_MESSAGE_BYTES: '150MiB',
      BRIDGE_SYNC_MAX_BYTES: '1048576',
      BRIDGE_SYNC_BUDGET_MS: '5s',
      BRIDGE_SAVE_TO_SENT_ITEMS: 'false',
      BRIDGE_ALLOWED_SENDERS: ' scanner@contoso.com, *@fabrikam.com ,',
      BRIDGE_DEFAULT_SENDER: 'noreply@contoso.com',
      BRIDGE_SITES: '[{"id":"hq","tenantId":"t-2","allowedSenders":["copier@hq.example"]}]',
      BRIDGE_SITE_SECRETS: '{"hq":"0123456789abcdef0123"}',
      BRIDGE_GRAPH_ENDPOINT: 'https://graph.microsoft.us/',
      BRIDGE_LOG_LEVEL: 'debug',
    });
    expect(c.maxMessageBytes).toBe(150 * 1024 * 1024);
    expect(c.syncMaxBytes).toBe(1_048_576);
    expect(c.syncBudgetMs).toBe(5000);
    expect(c.saveToSentItems).toBe(false);
    expect(c.allowedSenders).toEqual(['scanner@contoso.com', '*@fabrikam.com']);
    expect(c.graphEndpoint).toBe('https://graph.microsoft.us');
    expect(c.sites[0]).toEqual({ id: 'hq', tenantId: 't-2', allowedSenders: ['copier@hq.example'] });
    expect(c.siteSecrets).toEqual({ hq: '0123456789abcdef0123' });
  });

  it('lets a site override the global sender policy and tenant, and falls back to them otherwise', () => {
    const c = loadFunctionConfig({
      AzureWebJobsStorage: AZURITE,
      AZURE_TENANT_ID: 'home',
      BRIDGE_ALLOWED_SENDERS: 'a@contoso.com',
      BRIDGE_DEFAULT_SENDER: 'noreply@contoso.com',
      BRIDGE_SITES:
        '[{"id":"branch","tenantId":"other","allowedSenders":["b@fabrikam.com"],"defaultSender":"relay@fabrikam.com"},{"id":"hq"}]',
    });
    expect(siteSettings(c, 'branch')).toEqual({
      allowedSenders: ['b@fabrikam.com'],
      defaultSender: 'relay@fabrikam.com',
      tenantId: 'other',
    });
    expect(siteSettings(c, 'hq')).toEqual({
      allowedSenders: ['a@contoso.com'],
      defaultSender: 'noreply@contoso.com',
      tenantId: 'home',
    });
    expect(siteSettings(c, 'unlisted')).toEqual({
      allowedSenders: ['a@contoso.com'],
      defaultSender: 'noreply@contoso.com',
      tenantId: 'home',
    });
  });

  it('accepts identity-based storage with a user-assigned managed identity', () => {
    const c = loadFunctionConfig({
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: '11111111-2222-3333-4444-555555555555',
    });
    expect(c.storage).toEqual({
      kind: 'identity',
      blobServiceUri: 'https://acct.blob.core.windows.net',
      queueServiceUri: 'https://acct.queue.core.windows.net',
      tableServiceUri: 'https://acct.table.core.windows.net',
      credential: 'managedidentity',
      managedIdentityClientId: '11111111-2222-3333-4444-555555555555',
    });
  });

  it('lists every problem at once instead of stopping at the first', () => {
    const problems = checkFunctionConfig({
      BRIDGE_MAX_MESSAGE_BYTES: '200MB',
      BRIDGE_SITES: '[{"id":"Bad Site"}]',
      BRIDGE_SITE_SECRETS: 'not json',
      BRIDGE_GRAPH_ENDPOINT: 'http://graph.example',
      BRIDGE_MAILBOX_CONCURRENCY: '0',
      BRIDGE_LOG_LEVEL: 'loud',
    });
    const text = problems.join('\n');
    for (const name of [
      'BRIDGE_MAX_MESSAGE_BYTES',
      'BRIDGE_SITES',
      'BRIDGE_SITE_SECRETS',
      'BRIDGE_GRAPH_ENDPOINT',
      'BRIDGE_MAILBOX_CONCURRENCY',
      'BRIDGE_LOG_LEVEL',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('refuses a configuration without storage, or with half of the identity-based form', () => {
    expect(checkFunctionConfig({}).join()).toMatch(/AzureWebJobsStorage/);
    expect(
      checkFunctionConfig({ AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net' }).join(),
    ).toMatch(/queueServiceUri.*tableServiceUri|tableServiceUri/);
    expect(() => loadFunctionConfig({})).toThrow(BridgeError);
    try {
      loadFunctionConfig({});
    } catch (e) {
      expect((e as BridgeError).code).toBe('CONFIG_INVALID');
    }
  });

  it('treats empty settings as unset, as Azure shows them', () => {
    const c = loadFunctionConfig({
      AzureWebJobsStorage: AZURITE,
      BRIDGE_DEFAULT_SENDER: '',
      BRIDGE_SITES: '  ',
      AZURE_TENANT_ID: '',
    });
    expect(c.defaultSender).toBeUndefined();
    expect(c.sites).toEqual([]);
    expect(c.identity.tenantId).toBeUndefined();
  });

  it('takes the declared mail permission model for diagnostics and refuses any other value', () => {
    expect(loadFunctionConfig({ AzureWebJobsStorage: AZURITE }).mailPermissionModel).toBeUndefined();
    expect(
      loadFunctionConfig({ AzureWebJobsStorage: AZURITE, BRIDGE_MAIL_PERMISSION_MODEL: 'exchangeRbac' })
        .mailPermissionModel,
    ).toBe('exchangeRbac');
    expect(
      checkFunctionConfig({ AzureWebJobsStorage: AZURITE, BRIDGE_MAIL_PERMISSION_MODEL: 'rbac' }).join(),
    ).toMatch(/BRIDGE_MAIL_PERMISSION_MODEL/);
  });

  it('reads exactly the settings of function-settings.md', () => {
    expect([...FUNCTION_SETTING_NAMES].sort()).toEqual(
      [
        'AZURE_TENANT_ID',
        'AZURE_CLIENT_ID',
        'AZURE_CLIENT_SECRET',
        'AZURE_CLIENT_CERTIFICATE_PATH',
        'AZURE_AUTHORITY_HOST',
        'BRIDGE_MANAGED_IDENTITY_CLIENT_ID',
        'BRIDGE_GRAPH_ENDPOINT',
        'BRIDGE_ALLOWED_SENDERS',
        'BRIDGE_DEFAULT_SENDER',
        'BRIDGE_SITES',
        'BRIDGE_SITE_SECRETS',
        'BRIDGE_MAIL_PERMISSION_MODEL',
        'BRIDGE_REGISTRY_TABLE',
        'BRIDGE_ADMIN_KEY',
        'BRIDGE_CONSENT_REDIRECT_URI',
        'BRIDGE_MAX_MESSAGE_BYTES',
        'BRIDGE_SYNC_MAX_BYTES',
        'BRIDGE_SYNC_BUDGET_MS',
        'BRIDGE_SAVE_TO_SENT_ITEMS',
        'BRIDGE_MAX_QUEUE_AGE_MS',
        'AzureWebJobsStorage',
        'AzureWebJobsStorage__blobServiceUri',
        'AzureWebJobsStorage__queueServiceUri',
        'AzureWebJobsStorage__tableServiceUri',
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
        'BRIDGE_STATE_TABLE',
        'BRIDGE_BLOB_CONTAINER',
        'BRIDGE_QUEUE_NAME',
        'BRIDGE_MAILBOX_CONCURRENCY',
        'BRIDGE_MAILBOX_PER_MINUTE',
        'BRIDGE_LOG_LEVEL',
      ].sort(),
    );
  });

  it('keeps the poison limit equal to host.json maxDequeueCount', () => {
    const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as {
      extensions: { queues: { maxDequeueCount: number } };
    };
    expect(DEFAULT_TUNING.maxDequeueCount).toBe(host.extensions.queues.maxDequeueCount);
  });

  it('keeps the longest attempt equal to host.json functionTimeout (a stale Graph-phase attempt may live that long)', () => {
    const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as { functionTimeout: string };
    const [h, m, sec] = host.functionTimeout.split(':').map(Number);
    expect(DEFAULT_TUNING.maxAttemptMs).toBe(((h! * 60 + m!) * 60 + sec!) * 1000);
  });

  it('reads the horizon, BRIDGE_MAX_QUEUE_AGE_MS, with the default both sides share', () => {
    expect(loadFunctionConfig({ AzureWebJobsStorage: AZURITE }).maxQueueAgeMs).toBe(DEFAULT_MAX_QUEUE_AGE_MS);
    expect(
      loadFunctionConfig({ AzureWebJobsStorage: AZURITE, BRIDGE_MAX_QUEUE_AGE_MS: '2d' }).maxQueueAgeMs,
    ).toBe(2 * 86_400_000);
  });
});
