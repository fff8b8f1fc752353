import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import {
  serializeBridgeError,
  toBridgeError,
  type BridgeError,
  type SerializedBridgeError,
} from '../../core/errors';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, ServicesGetter } from '../services';

/**
 * GET /api/health: liveness, anonymous, touches nothing; `?deep=1` redirects (307) to the deep check.
 * GET /api/health/deep (function key): proves a Graph token can be obtained for every tenant the sites use,
 * lists the application permissions (roles) each token carries, and checks storage. Problems are
 * BridgeError JSON, so the doctor and the status page can show their hints.
 */
export const DEEP_HEALTH_PATH = '/api/health/deep';

/** Application permissions the bridge uses: Mail.Send always, Mail.ReadWrite for drafts and upload sessions. */
const EXPECTED_ROLES = ['Mail.Send', 'Mail.ReadWrite'];

export interface TenantHealth {
  tenantId: string;
  ok: boolean;
  roles?: string[];
  appId?: string;
  expiresOn?: string;
  /** Expected roles the token does not carry. Not a failure by itself: Exchange RBAC for Applications grants them outside the token. */
  missingRoles?: string[];
  error?: SerializedBridgeError;
}

export interface DeepHealth {
  status: 'ok' | 'failing';
  time: string;
  storage: { ok: boolean; error?: SerializedBridgeError };
  graph: TenantHealth[];
  problems: SerializedBridgeError[];
}

export function makeHealthHandler() {
  return async function health(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
    // `?deep=1` keeps working by redirecting to the function-key route (the host checks keys per function).
    const deep = request.query.get('deep');
    if (deep === '1' || deep === 'true') {
      return { status: 307, headers: { location: DEEP_HEALTH_PATH, 'cache-control': 'no-store' } };
    }
    return {
      status: 200,
      jsonBody: { status: 'alive', time: new Date().toISOString(), deep: DEEP_HEALTH_PATH },
      headers: { 'cache-control': 'no-store' },
    };
  };
}

export function makeDeepHealthHandler(getServices: ServicesGetter) {
  return async function healthDeep(
    _request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    let services: FunctionServices;
    try {
      services = getServices();
    } catch (err) {
      const error = toBridgeError(err);
      const body: DeepHealth = {
        status: 'failing',
        time: new Date().toISOString(),
        storage: { ok: false },
        graph: [],
        problems: [serializeBridgeError(error)],
      };
      return { status: 503, jsonBody: body, headers: { 'cache-control': 'no-store' } };
    }
    const log = invocationLogger(context, services.config.logLevel, { fn: 'healthDeep' });
    const problems: BridgeError[] = [];
    const storage = await services.probeStorage().then(
      () => ({ ok: true }),
      (err: unknown) => {
        const error = toBridgeError(err);
        problems.push(error);
        return { ok: false, error: serializeBridgeError(error) };
      },
    );
    const graph = await Promise.all(
      tenantsOf(services).map((tenantId) => checkTenant(services, tenantId, log, problems)),
    );
    const body: DeepHealth = {
      status: problems.length === 0 ? 'ok' : 'failing',
      time: services.now().toISOString(),
      storage,
      graph,
      problems: problems.map(serializeBridgeError),
    };
    log.info({
      event: 'HEALTH_CHECK',
      status: body.status,
      codes: problems.map((p) => p.code),
      tenants: graph.length,
    });
    return {
      status: problems.length === 0 ? 200 : 503,
      jsonBody: body,
      headers: { 'cache-control': 'no-store' },
    };
  };
}

/** The home tenant plus every tenant a site names (unset tenant ids show up as an error row). */
function tenantsOf(services: FunctionServices): Array<string | undefined> {
  const tenants = new Set<string | undefined>([services.config.identity.tenantId]);
  for (const site of services.config.sites) if (site.tenantId) tenants.add(site.tenantId);
  return [...tenants];
}

async function checkTenant(
  services: FunctionServices,
  tenantId: string | undefined,
  log: ReturnType<typeof invocationLogger>,
  problems: BridgeError[],
): Promise<TenantHealth> {
  const label = tenantId ?? '(AZURE_TENANT_ID not set)';
  try {
    const info = await services.mailerFor(tenantId, log).tokenInfo();
    const roles = [...info.roles].sort();
    const out: TenantHealth = {
      tenantId: info.tenantId ?? label,
      ok: true,
      roles,
      expiresOn: info.expiresOn.toISOString(),
    };
    if (info.appId) out.appId = info.appId;
    const missing = EXPECTED_ROLES.filter((r) => !roles.includes(r));
    if (missing.length > 0) out.missingRoles = missing;
    return out;
  } catch (err) {
    const error = toBridgeError(err);
    problems.push(error);
    return { tenantId: label, ok: false, error: serializeBridgeError(error) };
  }
}
