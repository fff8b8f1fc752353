import { randomBytes } from 'node:crypto';

import { z } from 'zod';

import { SITE_ID_PATTERN } from '../../core/envelope';
import { bridgeError } from '../../core/errors';
import { MAIL_PERMISSION_MODELS, type MailPermissionModel } from '../../core/mail-grants';
import { mailbox, senderPattern, type FunctionConfig } from '../config';
import type { FunctionServices } from '../services';
import { publicSite, type SiteRecord, type TenantRecord } from './registry-records';
import { addFigures, emptyFigures, siteFigures, type Figures } from './site-figures';
import { adminConsentUrl, customerSteps, TENANT_ID_PATTERN } from './onboarding-text';

/**
 * What the admin API does, independent of HTTP (admin-handler.ts maps routes onto these): tenants and sites
 * of the registry, consent URLs, secret rotation with an overlap window, and the per-tenant figures.
 * Secrets are returned exactly once — by `addSite` and `rotateSecret` — and never listed.
 */
export const addTenantSchema = z.strictObject({
  tenantId: z
    .string()
    .trim()
    .toLowerCase()
    .regex(TENANT_ID_PATTERN, 'tenant id: the directory (tenant) id GUID, not a domain and never "common"'),
  displayName: z.string().trim().min(1).max(120),
  permissionModel: z
    .enum(MAIL_PERMISSION_MODELS as [MailPermissionModel, ...MailPermissionModel[]])
    .optional(),
});

export const addSiteSchema = z.strictObject({
  siteId: z.string().regex(SITE_ID_PATTERN, 'site id: lower-case letters, digits and dashes'),
  tenantId: z.string().trim().toLowerCase().regex(TENANT_ID_PATTERN, 'tenant id: a GUID'),
  allowedSenders: z.array(senderPattern).min(1, 'name at least one allowed sender'),
  defaultSender: mailbox.optional(),
  ratePerMinute: z.number().int().min(1).max(10_000).optional(),
  deviceBindings: z.record(z.string().min(1).max(64), z.array(senderPattern)).optional(),
});

export const rotateSchema = z.strictObject({
  /** How long the replaced secret stays valid (default 72 h, at most 30 days). */
  overlapHours: z.number().min(0).max(720).optional(),
});

export const DEFAULT_OVERLAP_HOURS = 72;

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success)
    throw bridgeError('ADMIN_REQUEST_INVALID', {
      detail: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    });
  return parsed.data;
}

export interface TenantAdded {
  tenant: TenantRecord;
  consentUrl?: string;
  steps: string[];
}

export async function addTenant(
  services: FunctionServices,
  input: z.infer<typeof addTenantSchema>,
): Promise<TenantAdded> {
  const { config, registry } = services;
  const at = services.now().toISOString();
  const model = input.permissionModel ?? config.mailPermissionModel ?? 'exchangeRbac';
  const tenant = await registry.addTenant({
    tenantId: input.tenantId,
    displayName: input.displayName,
    permissionModel: model,
    consent: 'pending',
    consentChangedAt: at,
    createdAt: at,
  });
  const consentUrl = await newConsentUrl(services, tenant.tenantId);
  return { tenant, ...(consentUrl ? { consentUrl } : {}), steps: stepsFor(config, tenant, consentUrl) };
}

/** A fresh consent URL with its own `state` (the callback correlates by it); undefined when not configured. */
export async function newConsentUrl(
  services: FunctionServices,
  tenantId: string,
): Promise<string | undefined> {
  const { config, registry } = services;
  if (!config.consentRedirectUri || !config.identity.clientId) return undefined;
  const state = randomBytes(24).toString('base64url');
  await registry.addConsentRequest({ state, tenantId, createdAt: services.now().toISOString() });
  return adminConsentUrl({
    authorityHost: config.identity.authorityHost,
    tenantId,
    clientId: config.identity.clientId,
    graphEndpoint: config.graphEndpoint,
    redirectUri: config.consentRedirectUri,
    state,
  });
}

export function stepsFor(
  config: FunctionConfig,
  tenant: TenantRecord,
  consentUrl: string | undefined,
): string[] {
  // An RBAC tenant of a deployment whose app lists Mail.Send must not consent: consent would grant it tenant-wide.
  const consentSafe = !(
    tenant.permissionModel === 'exchangeRbac' && config.mailPermissionModel === 'tenantWideConsent'
  );
  return customerSteps({
    model: tenant.permissionModel,
    clientId: config.identity.clientId ?? '<AZURE_CLIENT_ID>',
    tenantId: tenant.tenantId,
    ...(consentSafe && consentUrl ? { consentUrl } : {}),
    ...(tenant.servicePrincipalObjectId ? { servicePrincipalObjectId: tenant.servicePrincipalObjectId } : {}),
  });
}

export async function showTenant(services: FunctionServices, tenantId: string) {
  const tenant = await services.registry.getTenant(tenantId);
  if (!tenant) throw bridgeError('ADMIN_NOT_FOUND', { detail: `tenant ${tenantId}` });
  const sites = await services.registry.listSites(tenant.tenantId);
  const bySite: Record<string, Figures> = {};
  let total = emptyFigures();
  for (const site of sites) {
    bySite[site.siteId] = await siteFigures(services.registry.messagesTable, site.siteId);
    total = addFigures(total, bySite[site.siteId] as Figures);
  }
  const { etag: _e, ...shown } = tenant;
  return { tenant: shown, sites: sites.map(publicSite), figures: { total, bySite } };
}

export async function removeTenant(services: FunctionServices, tenantId: string): Promise<void> {
  const sites = await services.registry.listSites(tenantId);
  if (sites.length > 0)
    throw bridgeError('ADMIN_REQUEST_INVALID', {
      detail: `tenant ${tenantId} still has sites (${sites.map((s) => s.siteId).join(', ')}); disable and remove them first`,
    });
  if (!(await services.registry.removeTenant(tenantId)))
    throw bridgeError('ADMIN_NOT_FOUND', { detail: `tenant ${tenantId}` });
}

export function newSiteSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface SiteWithSecret {
  site: ReturnType<typeof publicSite>;
  /** Shown once. */
  secret: string;
  edgeConfig: Record<string, string>;
}

export async function addSite(
  services: FunctionServices,
  input: z.infer<typeof addSiteSchema>,
  functionUrl: string,
): Promise<SiteWithSecret> {
  const tenant = await services.registry.getTenant(input.tenantId);
  if (!tenant)
    throw bridgeError('ADMIN_REQUEST_INVALID', {
      detail: `tenant ${input.tenantId} is not registered (tenant add)`,
    });
  const at = services.now().toISOString();
  const secret = newSiteSecret();
  const record: SiteRecord = {
    siteId: input.siteId,
    tenantId: tenant.tenantId,
    allowedSenders: input.allowedSenders,
    secrets: [{ version: 1, secret, createdAt: at }],
    enabled: true,
    createdAt: at,
  };
  if (input.defaultSender) record.defaultSender = input.defaultSender;
  if (input.ratePerMinute !== undefined) record.ratePerMinute = input.ratePerMinute;
  if (input.deviceBindings) record.deviceBindings = input.deviceBindings;
  const site = await services.registry.addSite(record);
  return { site: publicSite(site), secret, edgeConfig: edgeConfig(functionUrl, site.siteId, secret) };
}

export async function rotateSecret(
  services: FunctionServices,
  siteId: string,
  overlapHours: number,
  functionUrl: string,
): Promise<SiteWithSecret & { previousValidUntil: string }> {
  const now = services.now();
  const until = new Date(now.getTime() + overlapHours * 3_600_000).toISOString();
  const secret = newSiteSecret();
  const site = await services.registry.updateSite(siteId, (s) => {
    const live = s.secrets.filter(
      (v) => v.validUntil === undefined || Date.parse(v.validUntil) > now.getTime(),
    );
    const version = Math.max(0, ...s.secrets.map((v) => v.version)) + 1;
    return {
      secrets: [
        // Versions already in an overlap keep their own (earlier) end; the current one gets this overlap.
        ...live.map((v) => (v.validUntil === undefined ? { ...v, validUntil: until } : v)),
        { version, secret, createdAt: now.toISOString() },
      ],
    };
  });
  if (!site) throw bridgeError('ADMIN_NOT_FOUND', { detail: `site ${siteId}` });
  return {
    site: publicSite(site),
    secret,
    edgeConfig: edgeConfig(functionUrl, siteId, secret),
    previousValidUntil: until,
  };
}

export async function setSiteEnabled(services: FunctionServices, siteId: string, enabled: boolean) {
  const site = await services.registry.updateSite(siteId, (s) =>
    s.enabled === enabled ? undefined : { enabled },
  );
  if (!site) throw bridgeError('ADMIN_NOT_FOUND', { detail: `site ${siteId}` });
  return publicSite(site);
}

export async function showSite(services: FunctionServices, siteId: string) {
  const site = await services.registry.getSite(siteId);
  if (!site) throw bridgeError('ADMIN_NOT_FOUND', { detail: `site ${siteId}` });
  return { site: publicSite(site), figures: await siteFigures(services.registry.messagesTable, siteId) };
}

/** The edge's settings for this site (docs/config-edge.md); BRIDGE_FUNCTION_KEY is the host key, not ours. */
function edgeConfig(functionUrl: string, siteId: string, secret: string): Record<string, string> {
  return {
    BRIDGE_FUNCTION_URL: functionUrl,
    BRIDGE_SITE_ID: siteId,
    BRIDGE_SITE_SECRET: secret,
  };
}
