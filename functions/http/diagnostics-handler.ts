import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { MAX_DIAGNOSED_MAILBOXES, type DiagnosticsReport, type ProbeResult } from '../../core/diagnostics';
import { bridgeError, serializeBridgeError, toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { grantOverlap } from '../../core/mail-grants';
import { WIRE_HEADERS } from '../../core/wire';
import { identitySettings } from '../function-services';
import { credentialKind } from '../graph/credential';
import { DEFAULT_MAX_REQUEST_BYTES } from '../graph/graph-limits';
import type { GraphTransport } from '../graph/graph-transport';
import type { FunctionServices, ServicesGetter } from '../services';
import { authenticateSiteRequest, signedNonceCheck } from './authenticate-site-request';
import type { ResolvedSite } from '../tenants/site-directory';
import {
  grantsOf,
  probeMailboxes,
  probeTransport,
  readToken,
  refusedMailboxes,
  sendersToCheck,
  type TokenFacts,
} from './mail-access';

/**
 * GET /api/v1/diagnostics (function key + site signature): what `doctor` needs from the cloud side, for the
 * calling site only, and only for mailboxes it may send as — contract and probe design in core/diagnostics.ts.
 * Nothing here sends mail.
 */

/** The raw message size whose base64 still fits one Graph request (JSON overhead aside). */
export const SINGLE_REQUEST_MAX_BYTES = Math.floor((DEFAULT_MAX_REQUEST_BYTES * 3) / 4);

export function makeDiagnosticsHandler(getServices: ServicesGetter) {
  return async function diagnostics(
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    const nonce = request.headers.get(WIRE_HEADERS.messageId)?.slice(0, 128) ?? '';
    const auth = await authenticateSiteRequest(request, context, getServices, {
      fn: 'diagnostics',
      answerId: nonce,
      logAnswerId: false,
      check: signedNonceCheck('diagnostics'),
    });
    if (!auth.ok) return auth.response;
    const { services, log } = auth;
    const siteId = auth.verified.siteId;
    const report = await diagnose(
      services,
      auth.site,
      new URL(request.url).searchParams.getAll('mailbox'),
      log,
    );
    const problems = [
      report.token,
      report.storage,
      ...report.mailboxes.flatMap((m) => [m.send, ...(m.draft ? [m.draft] : [])]),
    ].flatMap((p) => (p.ok ? [] : [p.error.code]));
    log.info({
      event: 'HEALTH_CHECK',
      kind: 'diagnostics',
      site: siteId,
      mailboxes: report.mailboxes.length,
      refused: report.refused?.length ?? 0,
      codes: [...new Set(problems)],
    });
    return { status: 200, jsonBody: report, headers: { 'cache-control': 'no-store' } };
  };
}

async function diagnose(
  services: FunctionServices,
  site: ResolvedSite,
  requested: string[],
  log: Logger,
): Promise<DiagnosticsReport> {
  const config = services.config;
  const siteId = site.siteId;
  const report: DiagnosticsReport = {
    site: siteId,
    time: services.now().toISOString(),
    app: {
      authorityHost: config.identity.authorityHost,
      credential: credentialKind(identitySettings(config)) ?? 'none',
    },
    storage: await services.probeStorage().then(
      (): ProbeResult => ({ ok: true }),
      (err: unknown): ProbeResult => ({ ok: false, error: serializeBridgeError(toBridgeError(err)) }),
    ),
    token: { ok: false, error: serializeBridgeError(bridgeError('INTERNAL')) },
    policy: {
      allowedSenders: site.allowedSenders,
      ...(site.defaultSender ? { defaultSender: site.defaultSender } : {}),
    },
    maxMessageBytes: config.maxMessageBytes,
    saveToSentItems: config.saveToSentItems,
    singleRequestMaxBytes: SINGLE_REQUEST_MAX_BYTES,
    mailboxes: [],
    unchecked: [],
    ...(config.mailPermissionModel ? { permissionModel: config.mailPermissionModel } : {}),
  };
  if (config.identity.clientId) report.app.clientId = config.identity.clientId;
  if (site.tenantId) report.app.tenantId = site.tenantId;

  const candidates = sendersToCheck(site, requested);
  const targets = candidates.slice(0, MAX_DIAGNOSED_MAILBOXES);
  report.unchecked = candidates.slice(targets.length).map((c) => c.address);
  const refused = refusedMailboxes(site, requested);
  if (refused.length > 0) report.refused = refused;

  let transport: GraphTransport;
  let token: TokenFacts;
  try {
    transport = probeTransport(services, site.tenantId, log);
    token = await readToken(transport);
    report.token = { ok: true, ...token };
  } catch (err) {
    const error = serializeBridgeError(toBridgeError(err));
    report.token = { ok: false, error };
    report.mailboxes = targets.map((t) => ({ ...t, send: { ok: false, error } }));
    return report;
  }
  report.mailboxes = await probeMailboxes(transport, config, token.roles, targets);
  report.grants = grantsOf(token.roles, report.mailboxes);
  const overlap = grantOverlap(token.roles, config.mailPermissionModel, config.identity.clientId);
  if (overlap) report.grantOverlap = overlap;
  return report;
}
