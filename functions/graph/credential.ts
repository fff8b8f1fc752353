import {
  AzureAuthorityHosts,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

import { BridgeError } from '../../core/errors';

/**
 * How the function proves it is the app registration, from the identity settings (function-settings.md:
 * AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
 * BRIDGE_MANAGED_IDENTITY_CLIENT_ID, AZURE_AUTHORITY_HOST). functions/config.ts parses them; this module only
 * builds credentials.
 */
export interface IdentitySettings {
  /** Home tenant of the app registration (used when a site names no tenant). */
  tenantId: string;
  /** Application (client) id of the app registration. */
  clientId: string;
  /** Client secret (local/dev only). Wins over the certificate and the managed identity. */
  clientSecret?: string;
  /** PEM file with the private key and the certificate. */
  clientCertificatePath?: string;
  /** The same PEM given inline (tests, Key Vault secret contents). */
  clientCertificatePem?: string;
  /** Client id of a user-assigned managed identity configured as federated credential of the app (secretless). */
  managedIdentityClientId?: string;
  /** Entra authority; default https://login.microsoftonline.com. Must be https. */
  authorityHost?: string;
}

export type CredentialKind = 'client-secret' | 'client-certificate' | 'workload-identity';

/** Audience of the managed-identity token that Entra accepts as client assertion (workload identity federation). */
export const TOKEN_EXCHANGE_SCOPE = 'api://AzureADTokenExchange/.default';

/** Which credential the settings select, in order of precedence; undefined when there is none (sandbox). */
export function credentialKind(s: Partial<IdentitySettings>): CredentialKind | undefined {
  if (!s.tenantId || !s.clientId) return undefined;
  if (s.clientSecret) return 'client-secret';
  if (s.clientCertificatePath || s.clientCertificatePem) return 'client-certificate';
  if (s.managedIdentityClientId) return 'workload-identity';
  return undefined;
}

const MICROSOFT_AUTHORITY_HOSTS = new Set(Object.values(AzureAuthorityHosts).map((h) => new URL(h).host));

/**
 * Options every credential gets. MSAL validates an authority against Microsoft's instance-discovery
 * endpoint, which only knows Microsoft's clouds; any other https authority (a test fake, the sandbox) needs
 * `disableInstanceDiscovery` or token acquisition fails with endpoints_resolution_error (docs/design/toolchain.md §3).
 */
export function authorityOptions(authorityHost: string | undefined): {
  authorityHost?: string;
  disableInstanceDiscovery?: boolean;
} {
  if (!authorityHost) return {};
  const url = new URL(authorityHost);
  if (url.protocol !== 'https:') {
    throw new BridgeError('CONFIG_INVALID', {
      detail: `AZURE_AUTHORITY_HOST must be https (got ${url.protocol})`,
    });
  }
  return MICROSOFT_AUTHORITY_HOSTS.has(url.host)
    ? { authorityHost }
    : { authorityHost, disableInstanceDiscovery: true };
}

function noCredentialError(): BridgeError {
  return new BridgeError('CONFIG_INVALID', {
    detail:
      'no Graph credential configured: set AZURE_TENANT_ID and AZURE_CLIENT_ID plus AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or BRIDGE_MANAGED_IDENTITY_CLIENT_ID',
  });
}

/** One credential for one tenant. */
export function createCredential(
  settings: IdentitySettings,
  tenantId: string = settings.tenantId,
  shared?: { managedIdentity?: TokenCredential },
): TokenCredential {
  const kind = credentialKind(settings);
  const options = authorityOptions(settings.authorityHost);
  switch (kind) {
    case 'client-secret':
      return new ClientSecretCredential(
        tenantId,
        settings.clientId,
        settings.clientSecret as string,
        options,
      );
    case 'client-certificate':
      return settings.clientCertificatePem
        ? new ClientCertificateCredential(
            tenantId,
            settings.clientId,
            { certificate: settings.clientCertificatePem },
            options,
          )
        : new ClientCertificateCredential(
            tenantId,
            settings.clientId,
            { certificatePath: settings.clientCertificatePath as string },
            options,
          );
    case 'workload-identity': {
      // The managed identity lives in the home tenant; its token (audience api://AzureADTokenExchange) is the
      // client assertion for the app in whichever tenant the mailbox lives (the app is multitenant).
      const mi =
        shared?.managedIdentity ??
        new ManagedIdentityCredential({ clientId: settings.managedIdentityClientId as string });
      return new ClientAssertionCredential(
        tenantId,
        settings.clientId,
        async () => {
          const token = await mi.getToken(TOKEN_EXCHANGE_SCOPE);
          if (!token)
            throw new Error('the managed identity returned no token for api://AzureADTokenExchange');
          return token.token;
        },
        options,
      );
    }
    default:
      throw noCredentialError();
  }
}

export interface CredentialProvider {
  readonly kind: CredentialKind;
  /**
   * The credential for a tenant (a site's tenantId; default: the home tenant). The same object is returned for
   * the same tenant, so MSAL's token cache inside it is reused across requests.
   */
  credentialFor(tenantId?: string): TokenCredential;
}

/**
 * A per-tenant credential cache for one app registration (multi-tenant: one deployment sends for sites in
 * several tenants). Tokens are cached by MSAL inside each credential; for workload identity the managed
 * identity credential (and its token cache) is shared by all tenants.
 */
export function createCredentialProvider(settings: IdentitySettings): CredentialProvider {
  const kind = credentialKind(settings);
  if (!kind) throw noCredentialError();
  // Fail fast on a bad authority instead of on the first message.
  authorityOptions(settings.authorityHost);
  const shared =
    kind === 'workload-identity'
      ? {
          managedIdentity: new ManagedIdentityCredential({
            clientId: settings.managedIdentityClientId as string,
          }),
        }
      : undefined;
  const byTenant = new Map<string, TokenCredential>();
  return {
    kind,
    credentialFor(tenantId = settings.tenantId) {
      const key = tenantId.toLowerCase();
      let credential = byTenant.get(key);
      if (!credential) {
        credential = createCredential(settings, tenantId, shared);
        byTenant.set(key, credential);
      }
      return credential;
    },
  };
}
