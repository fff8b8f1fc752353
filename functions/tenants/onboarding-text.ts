import type { MailPermissionModel } from '../../core/mail-grants';

/**
 * What the provider hands to a customer admin, built in one place so the admin API, the CLI and the consent
 * page say the same thing (docs/multi-tenant.md).
 */

/** Entra tenant ids are GUIDs; the consent answer names the tenant by id, so the registry keys on ids only. */
export const TENANT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ConsentUrlParts {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** Graph root; the scope is its `/.default` (every application permission the app lists). */
  graphEndpoint: string;
  redirectUri: string;
  state: string;
}

/** `{authority}/{tenant}/v2.0/adminconsent?client_id=…&scope=…/.default&redirect_uri=…&state=…` */
export function adminConsentUrl(p: ConsentUrlParts): string {
  const url = new URL(`${p.authorityHost.replace(/\/+$/, '')}/${p.tenantId}/v2.0/adminconsent`);
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('scope', `${p.graphEndpoint.replace(/\/+$/, '')}/.default`);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('state', p.state);
  return url.toString();
}

/** The customer admin's steps for the tenant's permission model, as lines of text. */
export function customerSteps(opts: {
  model: MailPermissionModel;
  clientId: string;
  tenantId: string;
  consentUrl?: string;
  /** The app's service principal object id in that tenant, once a token showed it. */
  servicePrincipalObjectId?: string;
}): string[] {
  const consent = opts.consentUrl
    ? `Open this URL signed in as a Global Administrator or Privileged Role Administrator of ${opts.tenantId} and accept: ${opts.consentUrl}`
    : 'No consent URL: set BRIDGE_CONSENT_REDIRECT_URI on the function app.';
  if (opts.model === 'tenantWideConsent') {
    return [
      consent,
      'The app may then send as every mailbox of the tenant (Mail.Send, tenant-wide); limit it with an application access policy if needed.',
    ];
  }
  const scoping = opts.servicePrincipalObjectId
    ? [
        `   ./Set-BridgeMailboxScope.ps1 -AppId ${opts.clientId} -ServicePrincipalObjectId ${opts.servicePrincipalObjectId} -Mailbox <sender mailboxes>`,
        `   (${opts.servicePrincipalObjectId} is the service principal's object id in ${opts.tenantId}, read from the token the bridge obtained there)`,
      ]
    : [
        `   Connect-MgGraph -TenantId ${opts.tenantId} -Scopes Application.Read.All`,
        `   ./Set-BridgeMailboxScope.ps1 -AppId ${opts.clientId} -Mailbox <sender mailboxes>`,
        '   (the script looks up the service principal object id in YOUR tenant: it differs in every tenant)',
      ];
  return [
    `1. Create the app's service principal in ${opts.tenantId} (grants nothing: the app lists no Mail permission): ${consent}`,
    `   or, as an Application Administrator: New-MgServicePrincipal -AppId ${opts.clientId}`,
    '2. In Exchange Online PowerShell (Connect-ExchangeOnline as an Exchange Administrator):',
    ...scoping,
    '3. Exchange caches the grant for 30 minutes to 2 hours; Test-ServicePrincipalAuthorization shows it at once.',
  ];
}
