import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { DEEP_HEALTH_INTERVAL_MS, DEEP_HEALTH_PATH, MAX_DIAGNOSED_MAILBOXES } from '../../core/diagnostics';
import { serializeBridgeError, toBridgeError, type SerializedBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { grantOverlap, type MailboxGrant, type MailPermissionModel } from '../../core/mail-grants';
import { WIRE_HEADERS } from '../../core/wire';
import type { ResolvedSite } from '../tenants/site-directory';
import type { GraphTransport } from '../graph/graph-transport';
import type { FunctionServices, ServicesGetter } from '../services';
import { authenticateSiteRequest, signedNonceCheck } from './authenticate-site-request';
import {
  grantsOf,
  probeMailboxes,
  probeTransport,
  readToken,
  sendersToCheck,
  type ProbeTarget,
  type TokenFacts,
} from './mail-access';
import { ProbeCache } from './probe-cache';

/**
 * GET /api/health: liveness, anonymous, touches nothing; `?deep=1` redirects (307) to the deep check.
 * GET /api/health/deep (function key + site signature, core/diagnostics.ts): for the calling site only,
 * proves a Graph token can be obtained for the site's tenant, lists the application permissions (roles) it
 * carries, probes the site's sender mailboxes (core/mail-grants.ts: a token without Mail.Send is normal under
 * Exchange RBAC for Applications; the probe decides), and checks storage. The function key alone is shared
 * by every site, so it must not open another site's tenant, app id or mailboxes. At most one probe per site
 * per minute on each instance (probe-cache.ts); in between the last answer is repeated. Problems are
 * BridgeError JSON, so the doctor and the status page can show their hints.
 */
export { DEEP_HEALTH_PATH };

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
  /** When the probes of this answer ran. */
  time: string;
  /** The calling site: every row below is about it alone. Absent when the function cannot even load its configuration. */
  site?: string;
  storage: { ok: boolean; error?: SerializedBridgeError };
  /** The site's tenant (one row). */
  graph: TenantHealth[];
  problems: SerializedBridgeError[];
  /** BRIDGE_MAIL_PERMISSION_MODEL, when declared. */
  permissionModel?: MailPermissionModel;
  /** True when this is the answer of an earlier probe (at most one per site per minute per instance). */
  reused?: boolean;
  /** Earliest time a request makes this instance probe again. */
  nextProbeAt?: string;
}

interface ProbeAnswer {
  status: number;
  body: DeepHealth;
}

/** One probe cache per services set (one per process in Azure; tests build their own). */
const caches = new WeakMap<FunctionServices, ProbeCache<ProbeAnswer>>();

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
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    let loaded: FunctionServices;
    try {
      loaded = getServices();
    } catch (err) {
      // Nothing to probe and no site secret to check a signature with: say why, as a deep health answer.
      return configProblem(err);
    }
    const nonce = request.headers.get(WIRE_HEADERS.messageId)?.slice(0, 128) ?? '';
    const auth = await authenticateSiteRequest(request, context, () => loaded, {
      fn: 'healthDeep',
      answerId: nonce,
      logAnswerId: false,
      check: signedNonceCheck('deep health'),
    });
    if (!auth.ok) return auth.response;
    const { services, log } = auth;
    const siteId = auth.verified.siteId;
    let cache = caches.get(services);
    if (!cache) {
      cache = new ProbeCache<ProbeAnswer>(DEEP_HEALTH_INTERVAL_MS);
      caches.set(services, cache);
    }
    const nowMs = services.now().getTime();
    const { answer, probedAtMs, reused } = await cache.get(siteId, nowMs, () =>
      probeSite(services, auth.site, log),
    );
    const body: DeepHealth = {
      ...answer.body,
      reused,
      nextProbeAt: new Date(probedAtMs + cache.intervalMs).toISOString(),
    };
    log.info({
      event: 'HEALTH_CHECK',
      kind: 'deep',
      site: siteId,
      status: body.status,
      reused,
      codes: body.problems.map((p) => p.code),
    });
    return {
      status: answer.status,
      jsonBody: body,
      headers: {
        'cache-control': 'no-store',
        age: String(Math.max(0, Math.floor((nowMs - probedAtMs) / 1000))),
      },
    };
  };
}

function configProblem(err: unknown): HttpResponseInit {
  const body: DeepHealth = {
    status: 'failing',
    time: new Date().toISOString(),
    storage: { ok: false },
    graph: [],
    problems: [serializeBridgeError(toBridgeError(err))],
  };
  return { status: 503, jsonBody: body, headers: { 'cache-control': 'no-store' } };
}

/** The probes for one site: storage, then its tenant's token, roles and sender mailboxes. */
async function probeSite(services: FunctionServices, site: ResolvedSite, log: Logger): Promise<ProbeAnswer> {
  const siteId = site.siteId;
  const problems: SerializedBridgeError[] = [];
  const startedAt = services.now();
  const storage = await services.probeStorage().then(
    () => ({ ok: true }),
    (err: unknown) => {
      const error = serializeBridgeError(toBridgeError(err));
      problems.push(error);
      return { ok: false, error };
    },
  );
  const tenant = await checkTenant(services, site.tenantId, sendersToCheck(site), log, problems);
  const body: DeepHealth = {
    status: problems.length === 0 ? 'ok' : 'failing',
    time: startedAt.toISOString(),
    site: siteId,
    storage,
    graph: [tenant],
    problems,
    ...(services.config.mailPermissionModel ? { permissionModel: services.config.mailPermissionModel } : {}),
  };
  return { status: problems.length === 0 ? 200 : 503, body };
}

async function checkTenant(
  services: FunctionServices,
  tenantId: string | undefined,
  senders: ProbeTarget[],
  log: Logger,
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
