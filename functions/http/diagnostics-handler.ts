import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import {
  DIAGNOSTICS_NONCE_PREFIX,
  MAX_DIAGNOSED_MAILBOXES,
  type DiagnosticsReport,
  type MailboxDiagnosis,
  type ProbeResult,
} from '../../core/diagnostics';
import { addressKey, normalizeAddress } from '../../core/envelope';
import { bridgeError, serializeBridgeError, toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { EMPTY_SHA256, WIRE_HEADERS } from '../../core/wire';
import { siteSettings, type FunctionConfig } from '../config';
import {
  createCredentialProvider,
  credentialKind,
  type CredentialProvider,
  type IdentitySettings,
} from '../graph/credential';
import { base64Length, DEFAULT_MAX_REQUEST_BYTES } from '../graph/graph-limits';
import { GraphTransport } from '../graph/graph-transport';
import { readTokenClaims } from '../graph/token-claims';
import { invocationLogger } from '../invocation-logger';
import { isSenderAllowed } from '../mime/sender-policy';
import type { FunctionServices, ServicesGetter } from '../services';
import { draftProbe, sendProbe } from './mailbox-probes';
import { errorResponse } from './responses';
import { verifySiteRequest } from './verify-request';

/**
 * GET /api/v1/diagnostics (function key + site signature): what `doctor` needs from the cloud side, for the
 * calling site only — contract and probe design in core/diagnostics.ts. Nothing here sends mail.
 */

/** The raw message size whose base64 still fits one Graph request (JSON overhead aside). */
export const SINGLE_REQUEST_MAX_BYTES = Math.floor((DEFAULT_MAX_REQUEST_BYTES * 3) / 4);
const PROBE_TIMEOUT_MS = 20_000;

/** One credential provider per services set, so repeated diagnostics reuse MSAL's token cache. */
const providers = new WeakMap<FunctionServices, CredentialProvider>();

export function makeDiagnosticsHandler(getServices: ServicesGetter) {
  return async function diagnostics(
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    const nonce = request.headers.get(WIRE_HEADERS.messageId)?.slice(0, 128) ?? '';
    let services: FunctionServices;
    try {
      services = getServices();
    } catch (err) {
      return errorResponse(toBridgeError(err), nonce);
    }
    const log = invocationLogger(context, services.config.logLevel, { fn: 'diagnostics' });
    let siteId: string;
    try {
      const verified = verifySiteRequest(request, services.config.siteSecrets, services.now());
      if (verified.bodySha256 !== EMPTY_SHA256 || !verified.messageId.startsWith(DIAGNOSTICS_NONCE_PREFIX)) {
        throw bridgeError('SITE_SIGNATURE_INVALID', {
          detail: `a diagnostics request signs an empty body and a ${DIAGNOSTICS_NONCE_PREFIX}… nonce`,
        });
      }
      siteId = verified.siteId;
    } catch (err) {
      const error = toBridgeError(err);
      log.warn({
        event: 'REQUEST_REJECTED',
        code: error.code,
        site: request.headers.get(WIRE_HEADERS.site)?.slice(0, 64),
        err: error,
      });
      return errorResponse(error, nonce);
    }
    const report = await diagnose(services, siteId, new URL(request.url).searchParams.getAll('mailbox'), log);
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
      codes: [...new Set(problems)],
    });
    return { status: 200, jsonBody: report, headers: { 'cache-control': 'no-store' } };
  };
}

async function diagnose(
  services: FunctionServices,
  siteId: string,
  requested: string[],
  log: Logger,
): Promise<DiagnosticsReport> {
  const config = services.config;
  const site = siteSettings(config, siteId);
  const identity = identitySettings(config);
  const report: DiagnosticsReport = {
    site: siteId,
    time: services.now().toISOString(),
    app: { authorityHost: config.identity.authorityHost, credential: credentialKind(identity) ?? 'none' },
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
    singleRequestMaxBytes: SINGLE_REQUEST_MAX_BYTES,
    mailboxes: [],
    unchecked: [],
  };
  if (config.identity.clientId) report.app.clientId = config.identity.clientId;
  if (site.tenantId) report.app.tenantId = site.tenantId;

  const candidates = mailboxesToCheck(site, requested);
  const targets = candidates.slice(0, MAX_DIAGNOSED_MAILBOXES);
  report.unchecked = candidates.slice(targets.length).map((c) => c.address);

  let transport: GraphTransport;
  let roles: string[];
  try {
    let provider = providers.get(services);
    if (!provider) {
      provider = createCredentialProvider(identity);
      providers.set(services, provider);
    }
    transport = new GraphTransport({
      graphEndpoint: config.graphEndpoint,
      credential: provider.credentialFor(site.tenantId),
      requestTimeoutMs: PROBE_TIMEOUT_MS,
      logger: log,
    });
    const token = await transport.credential.getToken(transport.scope);
    if (!token) throw bridgeError('GRAPH_TOKEN_FAILED', { detail: 'the credential returned no token' });
    const claims = readTokenClaims(token.token);
    roles = [...claims.roles].sort();
    report.token = {
      ok: true,
      roles,
      expiresOn: new Date(token.expiresOnTimestamp).toISOString(),
      ...(claims.appId ? { appId: claims.appId } : {}),
      ...(claims.tenantId ? { tenantId: claims.tenantId } : {}),
    };
  } catch (err) {
    const error = serializeBridgeError(toBridgeError(err));
    report.token = { ok: false, error };
    report.mailboxes = targets.map((t) => ({ ...t, send: { ok: false, error } }));
    return report;
  }

  // Drafts are only used above the one-request size, and only need probing when the token does not already
  // carry Mail.ReadWrite (Exchange RBAC for Applications grants it outside the token).
  const probeDrafts =
    base64Length(config.maxMessageBytes) > DEFAULT_MAX_REQUEST_BYTES && !roles.includes('Mail.ReadWrite');
  for (const target of targets) {
    const send = await sendProbe(transport, target.address);
    const diagnosis: MailboxDiagnosis = { ...target, send };
    if (probeDrafts && send.ok) diagnosis.draft = await draftProbe(transport, target.address);
    report.mailboxes.push(diagnosis);
  }
  return report;
}

type Target = Pick<MailboxDiagnosis, 'address' | 'role' | 'allowedByPolicy'>;

/** Default sender, then the addresses asked for, then exact allow-list entries (`*`, `*@domain` cannot be probed). */
function mailboxesToCheck(
  site: { allowedSenders: string[]; defaultSender?: string },
  requested: string[],
): Target[] {
  const out: Target[] = [];
  const seen = new Set<string>();
  const add = (raw: string, role: Target['role']) => {
    const address = normalizeAddress(raw);
    if (!/^[^@\s]+@[^@\s]+$/.test(address) || address.length > 320 || seen.has(addressKey(address))) return;
    seen.add(addressKey(address));
    out.push({
      address,
      role,
      allowedByPolicy: role === 'default-sender' || isSenderAllowed(address, site.allowedSenders),
    });
  };
  if (site.defaultSender) add(site.defaultSender, 'default-sender');
  for (const r of requested.slice(0, MAX_DIAGNOSED_MAILBOXES)) add(r, 'requested');
  for (const entry of site.allowedSenders) if (!entry.startsWith('*')) add(entry, 'allowed-sender');
  return out;
}

/** The same mapping function-services.ts makes for the mailer (kept beside the one other user). */
function identitySettings(config: FunctionConfig): IdentitySettings {
  const id = config.identity;
  const s: IdentitySettings = {
    tenantId: id.tenantId ?? '',
    clientId: id.clientId ?? '',
    authorityHost: id.authorityHost,
  };
  if (id.clientSecret) s.clientSecret = id.clientSecret;
  if (id.clientCertificatePath) s.clientCertificatePath = id.clientCertificatePath;
  if (id.managedIdentityClientId) s.managedIdentityClientId = id.managedIdentityClientId;
  return s;
}
