import type { BridgeError } from '../../core/errors';
import type { MailPermissionModel } from '../../core/mail-grants';
import type { TokenFacts } from '../../core/diagnostics';

/**
 * Which token answers mean "this customer tenant no longer lets the bridge in" (docs/multi-tenant.md
 * "Revocation"): the bridge then holds the tenant's messages instead of failing
 * them, and tries a token again now and then. Pure: no I/O. The AADSTS number is matched, never the text
 * (Microsoft may change the text).
 *
 * Deliberately absent: 7000215 / 7000222 / 700027 / 70021 (our own credential is wrong — every tenant fails
 * alike, it is the provider's fault, not a revocation) and network failures.
 */
export const REVOCATION_AADSTS: Readonly<Record<string, string>> = {
  AADSTS7000229: "the app's service principal is missing in the tenant (deleted, or never created)",
  AADSTS700016: 'the app is not found in the tenant',
  AADSTS7000112: 'the application is disabled in the tenant',
  AADSTS500011: 'Microsoft Graph is not present in the tenant for this app',
  AADSTS650052: 'the tenant has no subscription to a resource the app needs',
  AADSTS90002: 'the tenant was not found',
  AADSTS53003: 'a Conditional Access policy of the tenant blocks the app',
};

/** A token issued without the Mail.Send role while the tenant's model needs it (consent withdrawn, SP kept). */
export const NO_MAIL_ROLE = 'NO_MAIL_ROLE';

export interface Revocation {
  /** `AADSTS7000229`, … or NO_MAIL_ROLE. */
  code: string;
  reason: string;
}

/** The revocation a failed token request shows, if it shows one. */
export function revocationOfTokenError(error: BridgeError): Revocation | undefined {
  if (error.code !== 'GRAPH_TOKEN_FAILED') return undefined;
  const code = /AADSTS\d+/.exec(`${error.detail ?? ''} ${error.message}`)?.[0];
  const reason = code ? REVOCATION_AADSTS[code] : undefined;
  return code && reason ? { code, reason } : undefined;
}

/**
 * The revocation a successful token shows: in the tenant-wide consent model the token must carry Mail.Send;
 * in the Exchange RBAC model it carries no Mail role by design, so nothing can be read from it.
 */
export function revocationOfToken(
  token: Pick<TokenFacts, 'roles'>,
  model: MailPermissionModel | undefined,
): Revocation | undefined {
  if (model !== 'tenantWideConsent') return undefined;
  if (token.roles.includes('Mail.Send')) return undefined;
  return {
    code: NO_MAIL_ROLE,
    reason:
      'the token carries no Mail.Send role: the admin consent was withdrawn (the service principal remains)',
  };
}
