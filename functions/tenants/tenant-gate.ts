import { bridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { FunctionServices, Mailer } from '../services';
import type { TenantRecord } from './registry-records';
import { revocationOfToken, revocationOfTokenError, type Revocation } from './revocation';

/**
 * The tenant-state check both send paths make right before a Graph request (and never after one, so a held
 * message cannot have been sent). For a tenant in the registry:
 *   - consent not granted and a token was tried within `tenantProbeMs`: closed, the message is held;
 *   - otherwise the token of that tenant is fetched (MSAL's cache makes this free while it is valid) and
 *     judged: a revocation code (revocation.ts) marks the tenant revoked at once and closes the gate; a
 *     token that works marks it granted again, so held messages flow by themselves.
 * Tenants only in the app settings have no record and pass unchanged (their token errors stay ordinary
 * retryable errors).
 */
export type GateResult = { open: true } | { open: false; error: BridgeError; retryAfterMs: number };

const OPEN: GateResult = { open: true };

export async function passTenantGate(
  services: FunctionServices,
  tenantId: string | undefined,
  mailer: Mailer,
  log: Logger,
): Promise<GateResult> {
  if (!tenantId) return OPEN;
  const tenant = await services.registry.getTenant(tenantId);
  if (!tenant) return OPEN;
  const nowMs = services.now().getTime();
  const probeMs = services.tuning.tenantProbeMs;
  if (tenant.consent !== 'granted') {
    const lastTry = Date.parse(tenant.lastTokenFailureAt ?? '') || 0;
    if (nowMs - lastTry < probeMs) return closed(tenant, probeMs - (nowMs - lastTry));
  }
  let revocation: Revocation | undefined;
  try {
    const token = await mailer.tokenInfo();
    revocation = revocationOfToken(token, tenant.permissionModel);
  } catch (err) {
    const error = err as BridgeError;
    revocation = revocationOfTokenError(error);
    if (!revocation) {
      await recordTokenFailure(services, tenant, error.code);
      return OPEN; // not a revocation: the send path meets the same error and treats it as it always has
    }
  }
  if (revocation) {
    const marked = await markRevoked(services, tenant.tenantId, revocation, log);
    return closed(marked ?? tenant, probeMs);
  }
  await markTokenWorks(services, tenant, log);
  return OPEN;
}

function closed(tenant: TenantRecord, retryAfterMs: number): GateResult {
  const why =
    tenant.consent === 'revoked'
      ? `tenant ${tenant.tenantId} revoked at ${tenant.consentChangedAt}: ${tenant.consentReason ?? tenant.lastTokenErrorCode ?? 'token refused'}`
      : `tenant ${tenant.tenantId} has not consented (${tenant.consent})`;
  return {
    open: false,
    error: bridgeError('TENANT_CONSENT_REVOKED', { detail: why, retryAfterMs }),
    retryAfterMs: Math.max(1000, retryAfterMs),
  };
}

/** Marks the tenant revoked (first time: logs TENANT_STATE_CHANGED) and notes the failed try. */
export async function markRevoked(
  services: FunctionServices,
  tenantId: string,
  revocation: Revocation,
  log: Logger,
): Promise<TenantRecord | undefined> {
  const at = services.now().toISOString();
  let changed = false;
  const t = await services.registry.updateTenant(tenantId, (current) => {
    // A tenant that never consented stays pending (or declined): it lost nothing.
    if (current.consent === 'pending' || current.consent === 'declined')
      return { lastTokenFailureAt: at, lastTokenErrorCode: revocation.code };
    changed = current.consent !== 'revoked';
    return {
      consent: 'revoked',
      ...(changed ? { consentChangedAt: at } : {}),
      consentReason: `${revocation.code}: ${revocation.reason}`,
      lastTokenFailureAt: at,
      lastTokenErrorCode: revocation.code,
    };
  });
  if (changed)
    log.warn({ event: 'TENANT_STATE_CHANGED', tenant: tenantId, consent: 'revoked', code: revocation.code });
  return t;
}

async function recordTokenFailure(services: FunctionServices, tenant: TenantRecord, code: string) {
  const at = services.now().toISOString();
  await services.registry.updateTenant(tenant.tenantId, () => ({
    lastTokenFailureAt: at,
    lastTokenErrorCode: code,
  }));
}

/** A token works: consent (back to) granted; the success time is written at most once per probe interval. */
export async function markTokenWorks(
  services: FunctionServices,
  tenant: TenantRecord,
  log: Logger,
): Promise<void> {
  const now = services.now();
  const fresh =
    tenant.consent === 'granted' &&
    now.getTime() - (Date.parse(tenant.lastTokenSuccessAt ?? '') || 0) < services.tuning.tenantProbeMs;
  if (fresh) return;
  const at = now.toISOString();
  let was: string | undefined;
  await services.registry.updateTenant(tenant.tenantId, (current) => {
    was = current.consent;
    return {
      lastTokenSuccessAt: at,
      ...(current.consent !== 'granted'
        ? { consent: 'granted', consentChangedAt: at, consentReason: 'a token was obtained' }
        : {}),
    };
  });
  if (was !== undefined && was !== 'granted')
    log.info({ event: 'TENANT_STATE_CHANGED', tenant: tenant.tenantId, consent: 'granted', was });
}
