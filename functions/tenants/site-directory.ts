import type { MailPermissionModel } from '../../core/mail-grants';
import { siteSettings, type FunctionConfig } from '../config';
import { validSecrets } from './registry-records';
import type { TenantRegistry } from './tenant-registry';

/**
 * Where a site's secret, tenant and sender policy come from. Two sources, one rule (docs/multi-tenant.md
 * "Registry and app settings"): a site registered in the registry is taken from there as a whole — its
 * BRIDGE_SITES entry and BRIDGE_SITE_SECRETS value are ignored — and every other site from the app settings
 * as before, so the zero-setup configuration keeps working untouched.
 */
export interface ResolvedSite {
  siteId: string;
  source: 'registry' | 'settings';
  /** Secrets a signature may use now, newest first (two during a rotation's overlap window). */
  secrets: string[];
  enabled: boolean;
  allowedSenders: string[];
  defaultSender?: string;
  tenantId?: string;
  ratePerMinute?: number;
}

export async function resolveSite(
  config: FunctionConfig,
  registry: TenantRegistry,
  siteId: string,
  now: Date,
): Promise<ResolvedSite | undefined> {
  let registered: Awaited<ReturnType<TenantRegistry['getSite']>>;
  try {
    registered = await registry.getSite(siteId);
  } catch (err) {
    // Storage down: a site of the app settings still authenticates, so deep health can report the outage
    // itself. Nothing else gets through on it: every other route needs the same storage for its work.
    if (!Object.hasOwn(config.siteSecrets, siteId)) throw err;
    registered = undefined;
  }
  if (registered) {
    const site: ResolvedSite = {
      siteId,
      source: 'registry',
      secrets: validSecrets(registered, now),
      enabled: registered.enabled,
      allowedSenders: registered.allowedSenders,
      tenantId: registered.tenantId,
    };
    if (registered.defaultSender) site.defaultSender = registered.defaultSender;
    if (registered.ratePerMinute !== undefined) site.ratePerMinute = registered.ratePerMinute;
    return site;
  }
  if (!Object.hasOwn(config.siteSecrets, siteId)) return undefined;
  return {
    siteId,
    source: 'settings',
    secrets: [config.siteSecrets[siteId] as string],
    enabled: true,
    ...siteSettings(config, siteId),
  };
}

/** The permission model a tenant's tokens are judged by: its registry record's, else the deployment's. */
export async function permissionModelOf(
  config: FunctionConfig,
  registry: TenantRegistry,
  tenantId: string | undefined,
): Promise<MailPermissionModel | undefined> {
  const tenant = tenantId ? await registry.getTenant(tenantId) : undefined;
  return tenant?.permissionModel ?? config.mailPermissionModel;
}
