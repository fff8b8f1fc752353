import type { MailPermissionModel } from '../../core/mail-grants';

/**
 * The records of the tenant and site registry (docs/multi-tenant.md). A tenant is a customer's Entra tenant
 * that consented once to the bridge's multitenant app; a site is one edge listener sending for that tenant.
 * Stored in Table Storage by tenant-registry.ts; nothing here holds message content.
 */

/**
 * pending: `tenant add` ran, the customer admin has not answered yet. granted: a token in that tenant was
 * obtained after the consent answer. declined: the admin answered with an error. revoked: a token request
 * or Graph answer showed that the consent or the service principal is gone; messages are held.
 */
export type ConsentState = 'pending' | 'granted' | 'declined' | 'revoked';
export const CONSENT_STATES: readonly ConsentState[] = ['pending', 'granted', 'declined', 'revoked'];

export interface TenantRecord {
  /** Entra tenant id (GUID) as the provider typed it, lower case. */
  tenantId: string;
  displayName: string;
  permissionModel: MailPermissionModel;
  consent: ConsentState;
  /** When `consent` last changed (ISO). */
  consentChangedAt: string;
  /** Why it changed: the admin's error_description, or the AADSTS code and reason of a revocation. */
  consentReason?: string;
  lastTokenSuccessAt?: string;
  lastTokenFailureAt?: string;
  /** `AADSTS7000229`, or `NO_MAIL_ROLE` for a token without the expected roles. */
  lastTokenErrorCode?: string;
  /** Object id of the app's service principal in this tenant (the oid of a token from there). */
  servicePrincipalObjectId?: string;
  createdAt: string;
  etag?: string;
}

export interface SecretVersion {
  version: number;
  secret: string;
  createdAt: string;
  /** Set when a newer version replaced it: the overlap window's end. Absent = current. */
  validUntil?: string;
}

export interface SiteRecord {
  siteId: string;
  tenantId: string;
  allowedSenders: string[];
  defaultSender?: string;
  /**
   * Per-device sender bindings (device name → sender patterns), kept for the edge/function re-check of
   * per-device From bindings; stored and shown here, enforced where bindings are checked.
   */
  deviceBindings?: Record<string, string[]>;
  /** Newest last. */
  secrets: SecretVersion[];
  enabled: boolean;
  /** Messages a minute this site may post; absent = no per-site limit (the mailbox pacing still applies). */
  ratePerMinute?: number;
  createdAt: string;
  etag?: string;
}

/** The secrets a signature may use at `now`: the current one and those still inside their overlap window. */
export function validSecrets(site: Pick<SiteRecord, 'secrets'>, now: Date): string[] {
  return site.secrets
    .filter((v) => v.validUntil === undefined || Date.parse(v.validUntil) > now.getTime())
    .sort((a, b) => b.version - a.version)
    .map((v) => v.secret);
}

/** The site as the admin API shows it: secret versions without their values. */
export function publicSite(site: SiteRecord): Omit<SiteRecord, 'secrets' | 'etag'> & {
  secrets: Array<Omit<SecretVersion, 'secret'>>;
} {
  const { secrets, etag: _etag, ...rest } = site;
  return { ...rest, secrets: secrets.map(({ secret: _s, ...v }) => v) };
}
