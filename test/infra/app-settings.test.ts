import { expect, it } from 'vitest';

import { FUNCTION_SETTING_NAMES, checkFunctionConfig, loadFunctionConfig } from '../../functions/config';
import { appSettings, isExpression, snapshotMain } from './arm';
import { describeWithTool } from '../helpers/tool-groups';

/**
 * The template and the function's configuration schema (functions/config.ts) must name the same settings,
 * so neither can drift. The only differences are these, each with its reason:
 */
const LOCAL_ONLY: Record<string, string> = {
  AZURE_CLIENT_SECRET: 'a client secret; Azure signs in with the managed identity as federated credential',
  AZURE_CLIENT_CERTIFICATE_PATH: 'a certificate file; same reason',
  AzureWebJobsStorage:
    'a storage connection string (Azurite locally); Azure uses the identity-based AzureWebJobsStorage__* form',
};
const PLATFORM_ONLY: Record<string, string> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'read by the Functions host, not by our code',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
    'read by the Functions host: Entra-authenticated telemetry with the managed identity',
};

/** Deploy-time values replaced by realistic stand-ins, so the function's own parser can judge the rest. */
const STAND_INS: Record<string, string> = {
  AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-0000000000aa',
  AzureWebJobsStorage__blobServiceUri: 'https://stexample.blob.core.windows.net/',
  AzureWebJobsStorage__queueServiceUri: 'https://stexample.queue.core.windows.net/',
  AzureWebJobsStorage__tableServiceUri: 'https://stexample.table.core.windows.net/',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-0000000000bb',
  AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com',
  BRIDGE_MANAGED_IDENTITY_CLIENT_ID: '00000000-0000-0000-0000-0000000000aa',
  // The platform resolves the Key Vault reference before the function reads it.
  BRIDGE_SITE_SECRETS: '{"hq":"0123456789abcdef0123"}',
  BRIDGE_ADMIN_KEY: 'an-admin-key-from-key-vault-0123456789abcdef',
  BRIDGE_CONSENT_REDIRECT_URI: 'https://func-example.azurewebsites.net/api/v1/consent/callback',
};

function deployedEnvironment(params: Record<string, unknown> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { name, value } of appSettings(snapshotMain(params))) {
    if (name in PLATFORM_ONLY) continue;
    if (isExpression(value)) {
      const standIn = STAND_INS[name];
      if (standIn === undefined) throw new Error(`${name} is only known at deployment time; add a stand-in`);
      env[name] = standIn;
    } else env[name] = value;
  }
  return env;
}

describeWithTool('bicep', 'app settings of the function app', () => {
  it("are exactly the settings the function reads, less the local-only ones, plus the host's own", () => {
    const template = appSettings(snapshotMain())
      .map((s) => s.name)
      .sort();
    const expected = [
      ...FUNCTION_SETTING_NAMES.filter((n) => !(n in LOCAL_ONLY)),
      ...Object.keys(PLATFORM_ONLY),
    ].sort();
    expect(template).toEqual(expected);
  });

  it('set no setting twice', () => {
    const names = appSettings(snapshotMain()).map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the local-only and platform exceptions still exist on their side (no stale exception)', () => {
    for (const name of Object.keys(LOCAL_ONLY)) expect(FUNCTION_SETTING_NAMES).toContain(name);
    for (const name of Object.keys(PLATFORM_ONLY)) expect(FUNCTION_SETTING_NAMES).not.toContain(name);
  });

  it("with the template's defaults, pass the function's own configuration check", () => {
    expect(checkFunctionConfig(deployedEnvironment())).toEqual([]);
  });

  it("default to exactly the function's own defaults, so an unset parameter means the same thing everywhere", () => {
    const deployed = loadFunctionConfig(deployedEnvironment());
    const functionDefaults = loadFunctionConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    for (const key of [
      'maxMessageBytes',
      'syncMaxBytes',
      'syncBudgetMs',
      'saveToSentItems',
      'stateTable',
      'blobContainer',
      'queueName',
      'mailboxConcurrency',
      'mailboxPerMinute',
      'logLevel',
      'graphEndpoint',
      'allowedSenders',
      'sites',
    ] as const) {
      expect(deployed[key], key).toEqual(functionDefaults[key]);
    }
    expect(deployed.identity.authorityHost).toBe(functionDefaults.identity.authorityHost);
  });

  it("carry the deployment parameters through in the function's formats", () => {
    const env = deployedEnvironment({
      allowedSenders: 'scanner@contoso.com,*@fabrikam.com',
      defaultSender: 'noreply@contoso.com',
      sites: JSON.stringify([{ id: 'hq', allowedSenders: ['copier@contoso.com'] }]),
      maxMessageBytes: '150MiB',
      saveToSentItems: false,
      mailboxPerMinute: 10,
      logLevel: 'debug',
    });
    const config = loadFunctionConfig(env);
    expect(config.allowedSenders).toEqual(['scanner@contoso.com', '*@fabrikam.com']);
    expect(config.defaultSender).toBe('noreply@contoso.com');
    expect(config.sites).toEqual([{ id: 'hq', allowedSenders: ['copier@contoso.com'] }]);
    expect(config.maxMessageBytes).toBe(150 * 1024 * 1024);
    expect(config.saveToSentItems).toBe(false);
    expect(config.mailboxPerMinute).toBe(10);
    expect(config.logLevel).toBe('debug');
  });

  it('use the identity-based storage connection and the secretless credential', () => {
    const config = loadFunctionConfig(deployedEnvironment());
    expect(config.storage.kind).toBe('identity');
    expect(config.identity.clientSecret).toBeUndefined();
    expect(config.identity.clientCertificatePath).toBeUndefined();
    expect(config.identity.managedIdentityClientId).toBeDefined();
  });
});
