import { entraError, type Reply } from './reply';
import type { RequestContext } from './request-context';

/**
 * Admin consent as the sandbox models it, per tenant: whether the app's service principal exists there
 * (consent given, not deleted since), and how the next admin-consent prompt is answered. The token endpoint
 * refuses a tenant without the service principal with AADSTS7000229, as Entra does; the admin-consent
 * endpoint (GET /{tenant}/v2.0/adminconsent) answers with the documented redirect
 * (?admin_consent=True&tenant=…&scope=…&state=… or ?error=…&error_description=…&state=…).
 */
export interface ConsentAnswer {
  decision: 'accept' | 'decline';
  /** A different `tenant` in the answer than the one consented (the spoofing Microsoft warns about). */
  reportTenant?: string;
}

export class ConsentModel {
  /** Undefined: every tenant has the service principal unless revoked (consent not modelled). */
  readonly #granted: Set<string> | undefined;
  readonly #revoked = new Set<string>();
  #next: ConsentAnswer[] = [];

  constructor(consentedTenants: string[] | undefined) {
    this.#granted = consentedTenants ? new Set(consentedTenants.map((t) => t.toLowerCase())) : undefined;
  }

  hasServicePrincipal(tenant: string): boolean {
    const t = tenant.toLowerCase();
    return !this.#revoked.has(t) && (!this.#granted || this.#granted.has(t));
  }

  grant(tenant: string): void {
    const t = tenant.toLowerCase();
    this.#revoked.delete(t);
    this.#granted?.add(t);
  }

  revoke(tenant: string): void {
    const t = tenant.toLowerCase();
    this.#revoked.add(t);
    this.#granted?.delete(t);
  }

  /** How the next prompt is answered (default: accept). */
  answerNext(answer: ConsentAnswer): void {
    this.#next.push(answer);
  }

  takeAnswer(): ConsentAnswer {
    return this.#next.shift() ?? { decision: 'accept' };
  }
}

export function adminConsentEndpoint(ctx: RequestContext, model: ConsentModel, tenant: string): Reply {
  const q = ctx.url.searchParams;
  const redirect = q.get('redirect_uri');
  const clientId = q.get('client_id');
  if (!redirect || !/^https:\/\//i.test(redirect) || !clientId)
    return entraError(
      ctx,
      400,
      'invalid_request',
      900144,
      'The request must contain client_id and an https redirect_uri.',
    );
  if (tenant === 'common')
    return entraError(
      ctx,
      400,
      'invalid_request',
      90130,
      'Application-permission consent needs a tenant; /common is not supported.',
    );
  const answer = model.takeAnswer();
  const back = new URL(redirect);
  const state = q.get('state');
  if (answer.decision === 'decline') {
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_subcode', 'cancel');
    back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
  } else {
    model.grant(tenant);
    back.searchParams.set('admin_consent', 'True');
    back.searchParams.set('tenant', answer.reportTenant ?? tenant);
    back.searchParams.set('scope', q.get('scope') ?? '');
  }
  if (state !== null) back.searchParams.set('state', state);
  return { status: 302, headers: { Location: back.toString() } };
}

/** The token endpoint's refusal for a tenant without the app's service principal. */
export function missingServicePrincipal(ctx: RequestContext, clientId: string, tenant: string): Reply {
  return entraError(
    ctx,
    400,
    'invalid_client',
    7000229,
    `The client application ${clientId} is missing service principal in the tenant ${tenant}.`,
  );
}
