import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { MAX_DIAGNOSED_MAILBOXES } from '../../core/diagnostics';
import { addressKey } from '../../core/envelope';
import { serializeBridgeError, toBridgeError, type SerializedBridgeError } from '../../core/errors';
import { grantOverlap, type MailboxGrant, type MailPermissionModel } from '../../core/mail-grants';
import { siteSettings, type FunctionConfig } from '../config';
import type { GraphTransport } from '../graph/graph-transport';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, ServicesGetter } from '../services';
import {
  grantsOf,
  probeMailboxes,
  probeTransport,
  readToken,
  sendersToCheck,
  type ProbeTarget,
  type TokenFacts,
} from './mail-access';

/**
 * GET /api/health: liveness, anonymous, touches nothing; `?deep=1` redirects (307) to the deep check.
 * GET /api/health/deep (function key): proves a Graph token can be obtained for every tenant the sites use,
 * lists the application permissions (roles) each token carries, probes the configured sender mailboxes of
 * that tenant (core/mail-grants.ts: a token without Mail.Send is normal under Exchange RBAC for
 * Applications; the probe decides), and checks storage. Problems are BridgeError JSON, so the doctor and the
 * status page can show their hints.
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
  /** Where Mail.Send / Mail.ReadWrite come from for each configured sender mailbox of this tenant. */
  grants?: MailboxGrant[];
  /** Sender mailboxes beyond the probe limit, not checked. */
  unchecked?: string[];
  /** Not failures: Mail.ReadWrite missing for a mailbox (only large messages fail), or a tenant-wide role making the Exchange scope moot. */
  warnings?: string[];
  error?: SerializedBridgeError;
}

export interface DeepHealth {
  status: 'ok' | 'failing';
  time: string;
  storage: { ok: boolean; error?: SerializedBridgeError };
  graph: TenantHealth[];
  problems: SerializedBridgeError[];
  /** BRIDGE_MAIL_PERMISSION_MODEL, when declared. */
  permissionModel?: MailPermissionModel;
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
    const problems: SerializedBridgeError[] = [];
    const storage = await services.probeStorage().then(
      () => ({ ok: true }),
      (err: unknown) => {
        const error = serializeBridgeError(toBridgeError(err));
        problems.push(error);
        return { ok: false, error };
      },
    );
    const senders = sendersByTenant(services.config);
    const graph = await Promise.all(
      tenantsOf(services).map((tenantId) =>
        checkTenant(services, tenantId, senders.get(tenantId) ?? [], log, problems),
      ),
    );
    const body: DeepHealth = {
      status: problems.length === 0 ? 'ok' : 'failing',
      time: services.now().toISOString(),
      storage,
      graph,
      problems,
      ...(services.config.mailPermissionModel
        ? { permissionModel: services.config.mailPermissionModel }
        : {}),
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

/**
 * The sender mailboxes to probe per tenant: each site's default sender and exact allowed senders in the
 * site's tenant; the global senders (sites without a BRIDGE_SITES entry) in the home tenant.
 */
function sendersByTenant(config: FunctionConfig): Map<string | undefined, ProbeTarget[]> {
  const byTenant = new Map<string | undefined, ProbeTarget[]>();
  const add = (tenantId: string | undefined, targets: ProbeTarget[]) => {
    const list = byTenant.get(tenantId) ?? [];
    const seen = new Set(list.map((t) => addressKey(t.address)));
    for (const t of targets) if (!seen.has(addressKey(t.address))) list.push(t);
    byTenant.set(tenantId, list);
  };
  add(config.identity.tenantId, sendersToCheck(config));
  for (const site of config.sites) {
    const settings = siteSettings(config, site.id);
    add(settings.tenantId, sendersToCheck(settings));
  }
  return byTenant;
}

async function checkTenant(
  services: FunctionServices,
  tenantId: string | undefined,
  senders: ProbeTarget[],
  log: ReturnType<typeof invocationLogger>,
  problems: SerializedBridgeError[],
): Promise<TenantHealth> {
  const label = tenantId ?? '(AZURE_TENANT_ID not set)';
  let transport: GraphTransport;
  let token: TokenFacts;
  try {
    transport = probeTransport(services, tenantId, log);
    token = await readToken(transport);
  } catch (err) {
    const error = serializeBridgeError(toBridgeError(err));
    problems.push(error);
    return { tenantId: label, ok: false, error };
  }
  const out: TenantHealth = {
    tenantId: token.tenantId ?? label,
    ok: true,
    roles: token.roles,
    expiresOn: token.expiresOn,
  };
  if (token.appId) out.appId = token.appId;
  const missing = EXPECTED_ROLES.filter((r) => !token.roles.includes(r));
  if (missing.length > 0) out.missingRoles = missing;

  const targets = senders.slice(0, MAX_DIAGNOSED_MAILBOXES);
  if (senders.length > targets.length) out.unchecked = senders.slice(targets.length).map((t) => t.address);
  const mailboxes = await probeMailboxes(transport, services.config, token.roles, targets);
  const grants = grantsOf(token.roles, mailboxes);
  if (grants.length > 0) out.grants = grants;
  const warnings: string[] = [];
  for (const g of grants) {
    // Without Mail.Send a sender cannot send at all; the probe's own error (with its hint) is the problem.
    // Throttling is Graph asking to wait, not a fault of the bridge.
    if (g.permission === 'Mail.Send' && g.error && g.error.code !== 'GRAPH_THROTTLED') {
      out.ok = false;
      problems.push({ ...g.error, detail: `${g.mailbox}: ${g.error.detail ?? g.error.message}` });
    }
    if (g.permission === 'Mail.ReadWrite' && g.source === 'not-granted')
      warnings.push(`${g.statement}: messages over one Graph request (about 3 MB) from it would fail.`);
    if (g.permission === 'Mail.ReadBasic' && g.source === 'not-granted')
      warnings.push(
        `${g.statement}: a lost Graph answer for a message from it cannot be checked in Sent Items, so such a message is held as GRAPH_OUTCOME_UNKNOWN for an admin (grant Mail.ReadBasic, docs/mailbox-scoping.md).`,
      );
  }
  if (!services.config.saveToSentItems)
    warnings.push(
      'BRIDGE_SAVE_TO_SENT_ITEMS is off: a lost Graph answer cannot be checked in Sent Items, so such a message is held as GRAPH_OUTCOME_UNKNOWN for an admin instead of being resolved.',
    );
  const overlap = grantOverlap(
    token.roles,
    services.config.mailPermissionModel,
    services.config.identity.clientId,
  );
  if (overlap) warnings.push(`${overlap.summary} ${overlap.fix}`);
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}
