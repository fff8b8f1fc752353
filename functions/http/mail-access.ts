import { MAX_DIAGNOSED_MAILBOXES, type MailboxDiagnosis, type ProbeResult } from '../../core/diagnostics';
import { addressKey, normalizeAddress } from '../../core/envelope';
import type { Logger } from '../../core/log';
import { mailboxGrants, READ_ROLES, type MailboxGrant } from '../../core/mail-grants';
import type { FunctionConfig } from '../config';
import { identitySettings } from '../function-services';
import { createCredentialProvider, type CredentialProvider } from '../graph/credential';
import { base64Length, DEFAULT_MAX_REQUEST_BYTES } from '../graph/graph-limits';
import { GraphTransport } from '../graph/graph-transport';
import { isSenderAllowed } from '../mime/sender-policy';
import type { FunctionServices } from '../services';
import { draftProbe, sendProbe, sentItemsProbe } from './mailbox-probes';

/**
 * What the diagnostics route and the deep health share: a Graph transport for a tenant, the token's roles,
 * and the per-mailbox probes that decide whether the app may use each sender mailbox — because a token
 * without Mail.Send is normal under Exchange RBAC for Applications (core/mail-grants.ts).
 */

const PROBE_TIMEOUT_MS = 20_000;

/** One credential provider per services set, so repeated probes reuse MSAL's token cache. */
const providers = new WeakMap<FunctionServices, CredentialProvider>();

/** Throws CONFIG_INVALID when no credential is configured. */
export function probeTransport(
  services: FunctionServices,
  tenantId: string | undefined,
  log: Logger,
): GraphTransport {
  let provider = providers.get(services);
  if (!provider) {
    provider = createCredentialProvider(identitySettings(services.config));
    providers.set(services, provider);
  }
  return new GraphTransport({
    graphEndpoint: services.config.graphEndpoint,
    credential: provider.credentialFor(tenantId),
    requestTimeoutMs: PROBE_TIMEOUT_MS,
    logger: log,
  });
}

// The token's facts, for both routes (defined in core/diagnostics.ts and functions/graph/token-claims.ts).
export type { TokenFacts } from '../../core/diagnostics';
export { readToken } from '../graph/token-claims';

export type ProbeTarget = Pick<MailboxDiagnosis, 'address' | 'role' | 'allowedByPolicy'>;

/**
 * Probes each mailbox: Mail.Send always; Mail.ReadWrite with a draft only where it matters — messages larger
 * than one Graph request are accepted and the token does not already carry the role; read access to Sent
 * Items (lost answers are resolved there) when the token carries no read role and Sent Items copies are kept.
 */
export async function probeMailboxes(
  transport: GraphTransport,
  config: FunctionConfig,
  roles: readonly string[],
  targets: readonly ProbeTarget[],
): Promise<MailboxDiagnosis[]> {
  const probeDrafts =
    base64Length(config.maxMessageBytes) > DEFAULT_MAX_REQUEST_BYTES && !roles.includes('Mail.ReadWrite');
  const probeReads = config.saveToSentItems && !READ_ROLES.some((r) => roles.includes(r));
  const out: MailboxDiagnosis[] = [];
  for (const target of targets) {
    const send: ProbeResult = await sendProbe(transport, target.address);
    const diagnosis: MailboxDiagnosis = { ...target, send };
    if (probeDrafts && send.ok) diagnosis.draft = await draftProbe(transport, target.address);
    if (probeReads && send.ok) diagnosis.sentItems = await sentItemsProbe(transport, target.address);
    out.push(diagnosis);
  }
  return out;
}

export function grantsOf(roles: readonly string[], mailboxes: readonly MailboxDiagnosis[]): MailboxGrant[] {
  return mailboxes.flatMap((m) => mailboxGrants(roles, m));
}

/**
 * Whether a site may send as `address`: it is the site's default sender or its sender policy allows it
 * (with a `*` policy every address of the site's tenant — the site could send as it anyway, so probing it
 * tells the site nothing a send would not).
 */
export function maySendAs(
  site: { allowedSenders: readonly string[]; defaultSender?: string },
  address: string,
): boolean {
  const key = addressKey(address);
  return (
    (site.defaultSender !== undefined && addressKey(site.defaultSender) === key) ||
    isSenderAllowed(key, site.allowedSenders)
  );
}

/**
 * Default sender, then the addresses asked for that the site may send as (maySendAs: others are never
 * probed, so the diagnostics route is no oracle for mailboxes outside the site's own), then exact
 * allow-list entries (`*`, `*@domain` cannot be probed).
 */
export function sendersToCheck(
  site: { allowedSenders: string[]; defaultSender?: string },
  requested: readonly string[] = [],
): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  const seen = new Set<string>();
  const add = (raw: string, role: ProbeTarget['role']) => {
    const address = normalizeAddress(raw);
    if (!isProbeableAddress(address) || seen.has(addressKey(address))) return;
    seen.add(addressKey(address));
    out.push({
      address,
      role,
      allowedByPolicy: role === 'default-sender' || isSenderAllowed(address, site.allowedSenders),
    });
  };
  if (site.defaultSender) add(site.defaultSender, 'default-sender');
  for (const r of requested.slice(0, MAX_DIAGNOSED_MAILBOXES)) if (maySendAs(site, r)) add(r, 'requested');
  for (const entry of site.allowedSenders) if (!entry.startsWith('*')) add(entry, 'allowed-sender');
  return out;
}

/** The requested addresses the site may not send as (not probed; the report names them). */
export function refusedMailboxes(
  site: { allowedSenders: readonly string[]; defaultSender?: string },
  requested: readonly string[],
): string[] {
  return requested
    .slice(0, MAX_DIAGNOSED_MAILBOXES)
    .map((r) => normalizeAddress(r).slice(0, 320))
    .filter((address) => !maySendAs(site, address));
}

function isProbeableAddress(address: string): boolean {
  return /^[^@\s]+@[^@\s]+$/.test(address) && address.length <= 320;
}
