import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { toBridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { invocationLogger } from '../invocation-logger';
import type { TokenFacts } from '../../core/diagnostics';
import type { FunctionServices, ServicesGetter } from '../services';
import { consentPage } from '../tenants/consent-page';
import { stepsFor } from '../tenants/registry-admin';
import type { TenantRecord } from '../tenants/registry-records';
import { revocationOfToken } from '../tenants/revocation';

/**
 * GET /api/v1/consent/callback: where Entra sends the customer admin after the admin-consent prompt
 * (?admin_consent=True&tenant=…&state=… or ?error=…&error_description=…&state=…). Anonymous by necessity (a
 * browser redirect carries no key), so it trusts nothing it is given:
 *   - `state` must be one this deployment issued (`tenant add` / `tenant consent-url`) and at most a day old;
 *     the tenant it was issued for is the tenant, the returned `tenant` must merely agree with it;
 *   - consent is recorded only after a token was obtained in that tenant (proof the service principal exists
 *     and, in the tenant-wide model, carries Mail.Send);
 *   - an error answer is shown in words and recorded as declined.
 * Reloading the page repeats the proof (the state stays until consent is recorded), which is how an admin
 * gets past Entra's replication delay.
 */
export const CONSENT_STATE_MAX_AGE_MS = 24 * 3_600_000;

export function makeConsentCallbackHandler(getServices: ServicesGetter) {
  return async function consentCallback(
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    let services: FunctionServices;
    try {
      services = getServices();
    } catch (err) {
      return unavailable(toBridgeError(err));
    }
    const log = invocationLogger(context, services.config.logLevel, { fn: 'consentCallback' });
    try {
      return await answer(services, log, new URL(request.url).searchParams);
    } catch (err) {
      const error = toBridgeError(err);
      log.error({ event: 'CONSENT_CALLBACK', outcome: 'error', code: error.code, err: error });
      return unavailable(error);
    }
  };
}

const clip = (v: string | null, n = 500) => (v ?? '').slice(0, n);

async function answer(
  services: FunctionServices,
  log: Logger,
  q: URLSearchParams,
): Promise<HttpResponseInit> {
  const { registry } = services;
  const state = clip(q.get('state'), 200);
  const request = state ? await registry.getConsentRequest(state) : undefined;
  const nowMs = services.now().getTime();
  const expired = request !== undefined && nowMs - Date.parse(request.createdAt) > CONSENT_STATE_MAX_AGE_MS;
  if (expired) await registry.removeConsentRequest(state);
  if (!request || expired) {
    log.warn({ event: 'CONSENT_CALLBACK', outcome: 'unknown-state' });
    return consentPage(400, {
      title: 'This consent link is not (or no longer) valid',
      paragraphs: [
        'The answer does not belong to an onboarding this bridge started, or the link is older than a day, or the consent was already recorded.',
        'Ask your provider for a new link (npm run admin -- tenant consent-url <tenant id>).',
      ],
    });
  }
  const tenant = await registry.getTenant(request.tenantId);
  if (!tenant) {
    await registry.removeConsentRequest(state);
    return consentPage(400, {
      title: 'This tenant is no longer registered',
      paragraphs: ['Ask your provider.'],
    });
  }

  const error = q.get('error');
  if (error) {
    const description = clip(q.get('error_description'));
    if (tenant.consent !== 'granted')
      await registry.updateTenant(tenant.tenantId, () => ({
        consent: 'declined',
        consentChangedAt: services.now().toISOString(),
        consentReason: `${clip(error, 80)}: ${description}`,
      }));
    log.warn({
      event: 'CONSENT_CALLBACK',
      outcome: 'declined',
      tenant: tenant.tenantId,
      error: clip(error, 80),
    });
    return consentPage(400, {
      title: 'Consent was not given',
      paragraphs: [
        `Microsoft Entra ID answered: ${clip(error, 80)}.`,
        description ? `Its explanation: ${description}` : 'It gave no explanation.',
        /consent_required|access_denied|AADSTS65004/i.test(`${error} ${description}`)
          ? 'The prompt was declined. Open the consent link again and choose Accept; it needs a Global Administrator or Privileged Role Administrator.'
          : 'Nothing was granted. Open the consent link again, or send this page to your provider.',
      ],
    });
  }

  const returned = clip(q.get('tenant'), 100).toLowerCase();
  if (returned && returned !== tenant.tenantId) {
    log.warn({ event: 'CONSENT_CALLBACK', outcome: 'tenant-mismatch', tenant: tenant.tenantId });
    return consentPage(400, {
      title: 'The answer names another tenant',
      paragraphs: [
        `This link was issued for tenant ${tenant.tenantId}, but the answer names ${returned}. Nothing was recorded.`,
        'Sign in with an administrator account of the tenant the link was made for.',
      ],
    });
  }
  if (clip(q.get('admin_consent'), 10).toLowerCase() !== 'true') {
    return consentPage(400, {
      title: 'No consent in this answer',
      paragraphs: [
        'The answer carries neither admin_consent=True nor an error. Open the consent link again.',
      ],
    });
  }
  return proveAndRecord(services, log, tenant, state);
}

async function proveAndRecord(
  services: FunctionServices,
  log: Logger,
  tenant: TenantRecord,
  state: string,
): Promise<HttpResponseInit> {
  const at = services.now().toISOString();
  let token: TokenFacts;
  try {
    token = await services.mailerFor(tenant.tenantId, log).tokenInfo();
  } catch (err) {
    const error = toBridgeError(err);
    const code = /AADSTS\d+/.exec(`${error.detail ?? ''}`)?.[0] ?? error.code;
    await services.registry.updateTenant(tenant.tenantId, () => ({
      lastTokenFailureAt: at,
      lastTokenErrorCode: code,
    }));
    log.warn({ event: 'CONSENT_CALLBACK', outcome: 'no-token', tenant: tenant.tenantId, code });
    return notYet(tenant, `No token could be obtained in the tenant yet (${code}).`);
  }
  if (token.tenantId && token.tenantId.toLowerCase() !== tenant.tenantId)
    return notYet(tenant, `The token came from tenant ${token.tenantId}, not ${tenant.tenantId}.`);
  if (revocationOfToken(token, tenant.permissionModel))
    return notYet(
      tenant,
      'The token carries no Mail.Send role yet (the tenant-wide consent is still replicating).',
    );

  const updated = await services.registry.updateTenant(tenant.tenantId, () => ({
    consent: 'granted',
    consentChangedAt: at,
    consentReason: 'admin consent, token obtained',
    lastTokenSuccessAt: at,
    ...(token.objectId ? { servicePrincipalObjectId: token.objectId } : {}),
  }));
  await services.registry.removeConsentRequest(state);
  log.info({ event: 'CONSENT_CALLBACK', outcome: 'granted', tenant: tenant.tenantId, roles: token.roles });
  log.info({
    event: 'TENANT_STATE_CHANGED',
    tenant: tenant.tenantId,
    consent: 'granted',
    was: tenant.consent,
  });
  const done = updated ?? tenant;
  return consentPage(200, {
    title: 'Consent recorded',
    paragraphs: [
      `The bridge obtained a token in tenant ${tenant.tenantId} (${tenant.displayName}) and recorded the consent.`,
      tenant.permissionModel === 'exchangeRbac'
        ? 'One step is left: let the bridge send as your sender mailboxes in Exchange Online:'
        : 'The bridge may now send as the mailboxes your provider configured. Nothing else is needed.',
    ],
    ...(tenant.permissionModel === 'exchangeRbac'
      ? { lines: stepsFor(services.config, done, undefined).slice(2) }
      : {}),
  });
}

function notYet(tenant: TenantRecord, why: string): HttpResponseInit {
  return consentPage(503, {
    title: 'Consent answer received, not recorded yet',
    paragraphs: [
      why,
      'Entra ID can take a few minutes to make a new consent visible. Reload this page in a minute; the bridge tries again.',
      `Tenant: ${tenant.tenantId}`,
    ],
  });
}

function unavailable(error: BridgeError): HttpResponseInit {
  return consentPage(503, {
    title: 'The bridge cannot answer right now',
    paragraphs: [`${error.code}: ${error.message}`, 'Reload this page in a minute.'],
  });
}
