import type { DiagnosticsReport } from '../../core/diagnostics';
import type { SerializedBridgeError } from '../../core/errors';

/**
 * Turns a BridgeError from the function (or the Graph answer inside it) into one plain sentence an admin
 * can act on, plus the fix. These are the failure modes of docs/design/platform-facts.md §A4–A5 and of Entra ID token
 * requests; anything else falls back to the error's own message and the hint of its ERROR_TABLE row.
 */
export interface FailureContext {
  /** The sender mailbox the failure is about. */
  mailbox?: string;
  /** The permission the failing request needed (sendMail: Mail.Send; drafts: Mail.ReadWrite). */
  permission?: 'Mail.Send' | 'Mail.ReadWrite';
  siteId?: string;
  app?: DiagnosticsReport['app'];
}

export interface Explanation {
  summary: string;
  fix: string;
}

/** The one-time admin-consent URL (Get-BridgeAdminConsentUrl.ps1 prints the same), when the ids are known. */
export function adminConsentUrl(app: DiagnosticsReport['app'] | undefined): string | undefined {
  if (!app?.clientId || !app.tenantId) return undefined;
  return `${app.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(app.tenantId)}/adminconsent?client_id=${encodeURIComponent(app.clientId)}`;
}

const SCOPE_DOC = 'docs/mailbox-scoping.md';
const CONSENT_DOC = 'docs/entra-app-and-consent.md';

export function explainFailure(error: SerializedBridgeError, ctx: FailureContext = {}): Explanation {
  const mailbox = ctx.mailbox ?? 'the mailbox';
  const tenant = ctx.app?.tenantId ? `tenant ${ctx.app.tenantId}` : 'the mailbox tenant';
  const graphCode = error.graph?.code ?? '';
  const text = `${error.message} ${error.detail ?? ''}`;
  switch (error.code) {
    case 'GRAPH_ACCESS_DENIED':
      if (/OData is disabled/i.test(text)) {
        return {
          summary: `Exchange Online refuses the app access to ${mailbox}: the mailbox is outside the app's Exchange RBAC for Applications scope (or its application access policy) — "Access to OData is disabled".`,
          fix: `Add ${mailbox} to the app's management scope with infra/scripts/Set-BridgeMailboxScope.ps1 (-Mailbox or -Group), or send from a mailbox inside the scope. Check with Test-ServicePrincipalAuthorization -Identity ${ctx.app?.clientId ?? '<app id>'} -Resource ${mailbox}; Exchange takes 30 minutes to 2 hours to apply a change. See ${SCOPE_DOC}.`,
        };
      }
      return missingPermission(ctx.permission ?? 'Mail.Send', mailbox, tenant, ctx);
    case 'GRAPH_MAILBOX_NOT_FOUND':
      if (/MailboxNotEnabledForRESTAPI/i.test(graphCode + text)) {
        return {
          summary: `${mailbox} exists but has no Exchange Online mailbox the app can use: it has no Exchange Online licence, or the mailbox is inactive, soft-deleted or hosted on-premises (MailboxNotEnabledForRESTAPI).`,
          fix: `Assign a licence that includes Exchange Online to ${mailbox} (or use a shared mailbox, which needs none) and wait until the mailbox exists, or choose another sender in BRIDGE_ALLOWED_SENDERS / BRIDGE_DEFAULT_SENDER (or the site's entry in BRIDGE_SITES).`,
        };
      }
      return {
        summary: `There is no user ${mailbox} in ${tenant} (${graphCode || `HTTP ${error.graph?.status ?? 404}`}).`,
        fix: `Correct the address in BRIDGE_ALLOWED_SENDERS / BRIDGE_DEFAULT_SENDER (or the site's entry in BRIDGE_SITES). If the mailbox lives in another tenant, set that site's tenantId and have an admin of that tenant consent to the app (${CONSENT_DOC}).`,
      };
    case 'GRAPH_SEND_AS_DENIED':
      return {
        summary: `Exchange Online refuses to let ${mailbox} send as the From address (ErrorSendAsDenied: no Send As right).`,
        fix: `Send as the mailbox itself (add the From address to BRIDGE_ALLOWED_SENDERS so it sends as itself), or grant Send As in Exchange Online: Add-RecipientPermission -Identity <From address> -Trustee ${mailbox} -AccessRights SendAs.`,
      };
    case 'GRAPH_THROTTLED': {
      const wait =
        error.retryAfterMs !== undefined ? ` and asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s` : '';
      return {
        summary: `Microsoft Graph is throttling the app for ${mailbox} right now${wait}. Nothing is lost: messages wait and are retried.`,
        fix: `If it lasts, the mailbox's limits are shared with other traffic (per app and mailbox: 4 concurrent requests, 10,000 requests per 10 minutes; Exchange: 30 messages a minute). Lower BRIDGE_MAILBOX_CONCURRENCY or BRIDGE_MAILBOX_PER_MINUTE, or spread the devices over more sender mailboxes; run doctor again later.`,
      };
    }
    case 'GRAPH_TOKEN_FAILED':
      return explainTokenFailure(error, text, tenant, ctx);
    case 'GRAPH_UNAVAILABLE':
      return {
        summary: `Microsoft Graph did not answer the function (${error.detail ?? error.message}).`,
        fix: 'Usually transient: run doctor again in a few minutes. If it persists, check that the function app can reach graph.microsoft.com and login.microsoftonline.com (network rules, NAT, proxy).',
      };
    case 'CONFIG_INVALID':
      return {
        summary: `The function app's configuration is incomplete: ${error.detail ?? error.message}.`,
        fix: 'Set the missing app settings of the function app (docs/deploy.md lists them); GET /api/health/deep shows the same problems.',
      };
    case 'STORAGE_UNAVAILABLE':
      return {
        summary: `The function cannot use its Azure Storage account (${error.detail ?? error.message}).`,
        fix: error.hint,
      };
    case 'SITE_UNKNOWN':
      return {
        summary: `The function does not know site "${ctx.siteId ?? '?'}".`,
        fix: `Add "${ctx.siteId ?? '<site id>'}" and its secret to BRIDGE_SITE_SECRETS of the function app (and to BRIDGE_SITES when the site has its own senders or tenant), or correct BRIDGE_SITE_ID on this machine.`,
      };
    case 'SITE_SIGNATURE_INVALID':
      return {
        summary:
          "The function refused this site's signature: the site secret on this machine differs from the one in the function's BRIDGE_SITE_SECRETS.",
        fix: `Copy the secret of site "${ctx.siteId ?? '<site id>'}" from the function's BRIDGE_SITE_SECRETS (Key Vault) into BRIDGE_SITE_SECRET or BRIDGE_SITE_SECRET_FILE here, then restart the listener.`,
      };
    case 'REQUEST_STALE':
      return {
        summary: `The function refused the request as too old or from the future: the clocks differ (${error.detail ?? 'more than 5 minutes'}).`,
        fix: "Synchronise this machine's clock (NTP; on Windows: w32tm /resync). Requests more than 5 minutes off are refused as possible replays.",
      };
    default:
      return {
        summary: `${error.message}${error.detail && !error.message.includes(error.detail) ? `: ${error.detail}` : ''} (${error.code}).`,
        fix: error.hint,
      };
  }
}

function missingPermission(
  permission: 'Mail.Send' | 'Mail.ReadWrite',
  mailbox: string,
  tenant: string,
  ctx: FailureContext,
): Explanation {
  const url = adminConsentUrl(ctx.app);
  const why =
    permission === 'Mail.ReadWrite' ? ' Messages too large for one Graph request (about 3 MB) need it.' : '';
  return {
    summary: `The app may not use ${mailbox}: ${permission} (Application) is neither admin-consented in ${tenant} nor assigned to the app through Exchange RBAC for Applications ("Access is denied").${why}`,
    fix: `Either grant admin consent once${url ? `: ${url}` : ' (Entra admin center → App registrations → the app → API permissions → Grant admin consent)'}, or assign "Application ${permission}" in Exchange Online with infra/scripts/Set-BridgeMailboxScope.ps1. Do not do both: they add up, and consent makes the app tenant-wide. See ${CONSENT_DOC}.`,
  };
}

/** AADSTS codes seen when the function asks Entra ID for a Graph token, in an admin's words. */
const AADSTS: Record<string, (tenant: string, ctx: FailureContext) => Explanation> = {
  AADSTS7000215: () => ({
    summary: 'Entra ID rejected the client secret of the app (AADSTS7000215: invalid secret).',
    fix: 'Put the secret VALUE (not its id) into AZURE_CLIENT_SECRET of the function app, or switch to a certificate or the managed identity (secretless).',
  }),
  AADSTS7000222: () => ({
    summary: 'The client secret of the app has expired (AADSTS7000222).',
    fix: 'Create a new client secret on the app registration and update AZURE_CLIENT_SECRET (or its Key Vault secret); better, use the managed identity, which has no secret to expire.',
  }),
  AADSTS700016: (tenant, ctx) => {
    const url = adminConsentUrl(ctx.app);
    return {
      summary:
        `The app ${ctx.app?.clientId ?? ''} is not known in ${tenant} (AADSTS700016): it was never consented there, or AZURE_CLIENT_ID is wrong.`.replace(
          '  ',
          ' ',
        ),
      fix: `For mailboxes in another tenant, an admin of that tenant consents once${url ? `: ${url}` : ' with the admin-consent URL (infra/scripts/Get-BridgeAdminConsentUrl.ps1)'}; otherwise check AZURE_CLIENT_ID and AZURE_TENANT_ID (or the site's tenantId).`,
    };
  },
  AADSTS90002: (tenant) => ({
    summary: `Entra ID does not know ${tenant} (AADSTS90002: tenant not found).`,
    fix: 'Correct AZURE_TENANT_ID of the function app, or the tenantId of this site in BRIDGE_SITES (a GUID or a verified domain).',
  }),
  AADSTS700027: () => ({
    summary:
      'Entra ID did not accept the certificate the function signs with (AADSTS700027): it is not registered on the app.',
    fix: 'Upload the certificate (public part) under App registrations → the app → Certificates & secrets, or point AZURE_CLIENT_CERTIFICATE_PATH at the registered one.',
  }),
  AADSTS700213: () => ({
    summary:
      "Entra ID found no federated credential on the app for the function's managed identity (AADSTS700213).",
    fix: "Add the user-assigned managed identity as a federated credential of the app (issuer https://login.microsoftonline.com/<tenant>/v2.0, subject = the identity's principal id, audience api://AzureADTokenExchange) — the Bicep deployment does this — and check BRIDGE_MANAGED_IDENTITY_CLIENT_ID.",
  }),
  AADSTS70021: () => ({
    summary:
      "Entra ID found no federated credential on the app matching the function's managed identity (AADSTS70021).",
    fix: "Check the federated credential of the app: subject must be the managed identity's principal (object) id and audience api://AzureADTokenExchange.",
  }),
  AADSTS7000218: () => ({
    summary:
      'The function sent no credential to Entra ID (AADSTS7000218: neither a client secret nor a client assertion).',
    fix: 'Set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or BRIDGE_MANAGED_IDENTITY_CLIENT_ID in the function app.',
  }),
  AADSTS700024: () => ({
    summary:
      'Entra ID refused the client assertion as outside its validity (AADSTS700024): the clock of the signer is off or the token is stale.',
    fix: 'Restart the function app; if it persists, check the managed identity or certificate configuration.',
  }),
};

function explainTokenFailure(
  error: SerializedBridgeError,
  text: string,
  tenant: string,
  ctx: FailureContext,
): Explanation {
  const code = /AADSTS\d+/.exec(text)?.[0];
  const known = code ? AADSTS[code] : undefined;
  if (known) return known(tenant, ctx);
  if (/endpoints_resolution_error|authority metadata/i.test(text)) {
    return {
      summary: 'The function could not reach Entra ID to get a token (authority metadata unreachable).',
      fix: 'Check AZURE_AUTHORITY_HOST and that the function app can reach login.microsoftonline.com (network rules, proxy).',
    };
  }
  return {
    summary: `The function could not get a Microsoft Graph token (${error.detail ?? error.message}).`,
    fix: error.hint,
  };
}
