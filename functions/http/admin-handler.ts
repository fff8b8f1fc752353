import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { bridgeError, serializeBridgeError, toBridgeError } from '../../core/errors';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, ServicesGetter } from '../services';
import { checkAdminKey } from '../tenants/admin-auth';
import {
  addSite,
  addSiteSchema,
  addTenant,
  addTenantSchema,
  DEFAULT_OVERLAP_HOURS,
  newConsentUrl,
  parseBody,
  removeTenant,
  rotateSecret,
  rotateSchema,
  setSiteEnabled,
  showSite,
  showTenant,
  stepsFor,
} from '../tenants/registry-admin';

/**
 * /api/v1/admin/…: the provider's admin API over the tenant and site registry (docs/multi-tenant.md):
 *
 *   GET    tenants                       list            POST tenants                 add (+ consent URL)
 *   GET    tenants/{id}                  show + figures  DELETE tenants/{id}          remove (no sites left)
 *   POST   tenants/{id}/consent-url      a fresh consent URL
 *   GET    sites                         list            POST sites                   add (secret shown once)
 *   GET    sites/{id}                    show + figures  POST sites/{id}/disable|enable|rotate-secret
 *
 * Every call needs the function key (host) and the admin key (admin-auth.ts). Answers are JSON; errors are
 * a serialized BridgeError under `error`.
 */
export const ADMIN_ROUTE_PREFIX = '/api/v1/admin/';

export function makeAdminHandler(getServices: ServicesGetter) {
  return async function admin(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    let services: FunctionServices;
    try {
      services = getServices();
    } catch (err) {
      return adminError(toBridgeError(err));
    }
    const log = invocationLogger(context, services.config.logLevel, { fn: 'admin' });
    const path = new URL(request.url).pathname;
    try {
      checkAdminKey(request, services.config.adminKey, services.config.adminKeyUnresolved);
      const segments = path
        .slice(ADMIN_ROUTE_PREFIX.length)
        .split('/')
        .filter(Boolean)
        .map(decodeURIComponent);
      const result = await dispatch(services, request, segments);
      if (result.logged) log.info({ event: 'ADMIN_API', ...result.logged });
      return {
        status: result.status ?? 200,
        jsonBody: result.body,
        headers: { 'cache-control': 'no-store' },
      };
    } catch (err) {
      const error = toBridgeError(err);
      log.warn({ event: 'REQUEST_REJECTED', code: error.code, path: path.slice(0, 120), err: error });
      return adminError(error);
    }
  };
}

interface Result {
  status?: number;
  body: unknown;
  /** Facts for the ADMIN_API line (never a secret). */
  logged?: Record<string, unknown>;
}

async function dispatch(services: FunctionServices, request: HttpRequest, seg: string[]): Promise<Result> {
  const method = request.method.toUpperCase();
  const [kind, id, action] = seg;
  const functionUrl = new URL(request.url).origin;
  if (kind === 'tenants') {
    if (!id && method === 'GET') {
      const tenants = (await services.registry.listTenants()).map(({ etag: _e, ...t }) => t);
      return { body: { tenants } };
    }
    if (!id && method === 'POST') {
      const added = await addTenant(services, parseBody(addTenantSchema, await jsonOf(request)));
      const { etag: _e, ...tenant } = added.tenant;
      return {
        status: 201,
        body: { ...added, tenant },
        logged: { action: 'tenant add', tenant: tenant.tenantId, model: tenant.permissionModel },
      };
    }
    if (id && !action && method === 'GET') {
      const shown = await showTenant(services, id);
      return { body: { ...shown, steps: stepsFor(services.config, shown.tenant, undefined) } };
    }
    if (id && !action && method === 'DELETE') {
      await removeTenant(services, id);
      return { body: { removed: id }, logged: { action: 'tenant remove', tenant: id } };
    }
    if (id && action === 'consent-url' && method === 'POST') {
      const tenant = await services.registry.getTenant(id);
      if (!tenant) throw bridgeError('ADMIN_NOT_FOUND', { detail: `tenant ${id}` });
      const consentUrl = await newConsentUrl(services, tenant.tenantId);
      return { body: { consentUrl, steps: stepsFor(services.config, tenant, consentUrl) } };
    }
  }
  if (kind === 'sites') {
    if (!id && method === 'GET') {
      const tenantId = new URL(request.url).searchParams.get('tenant') ?? undefined;
      const sites = await services.registry.listSites(tenantId);
      return { body: { sites: sites.map((s) => (({ secrets: _s, etag: _e, ...rest }) => rest)(s)) } };
    }
    if (!id && method === 'POST') {
      const added = await addSite(services, parseBody(addSiteSchema, await jsonOf(request)), functionUrl);
      return {
        status: 201,
        body: added,
        logged: { action: 'site add', site: added.site.siteId, tenant: added.site.tenantId },
      };
    }
    if (id && !action && method === 'GET') return { body: await showSite(services, id) };
    if (id && (action === 'disable' || action === 'enable') && method === 'POST') {
      const site = await setSiteEnabled(services, id, action === 'enable');
      return { body: { site }, logged: { action: `site ${action}`, site: id } };
    }
    if (id && action === 'rotate-secret' && method === 'POST') {
      const body = parseBody(rotateSchema, await jsonOf(request));
      const rotated = await rotateSecret(
        services,
        id,
        body.overlapHours ?? DEFAULT_OVERLAP_HOURS,
        functionUrl,
      );
      return {
        body: rotated,
        logged: { action: 'site rotate-secret', site: id, previousValidUntil: rotated.previousValidUntil },
      };
    }
  }
  throw bridgeError('ADMIN_REQUEST_INVALID', { detail: `no admin operation ${method} ${seg.join('/')}` });
}

async function jsonOf(request: HttpRequest): Promise<unknown> {
  const text = await request.text();
  if (text.length > 64 * 1024) throw bridgeError('ADMIN_REQUEST_INVALID', { detail: 'body over 64 KiB' });
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bridgeError('ADMIN_REQUEST_INVALID', { detail: 'body is not JSON' });
  }
}

function adminError(error: ReturnType<typeof toBridgeError>): HttpResponseInit {
  return {
    status: error.httpStatus,
    jsonBody: { error: serializeBridgeError(error) },
    headers: { 'cache-control': 'no-store' },
  };
}
