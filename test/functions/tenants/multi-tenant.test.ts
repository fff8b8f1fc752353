import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { startLocalFunctionHost, type LocalFunctionHost } from '../../../dev/function-host/host';
import { runAdminCli } from '../../../scripts/admin/admin-cli';
import {
  frame,
  envelopeFor,
  invocation,
  mimeMessage,
  newMessageId,
  postMessage,
  postRequest,
  bodyOf,
  startKit,
  statusRequest,
  type Kit,
} from '../function-test-kit';
import { makeSendMessageHandler } from '../../../functions/http/post-message-handler';
import { makeMessageStatusHandler } from '../../../functions/http/message-status-handler';
import { WIRE_HEADERS } from '../../../core/wire';

/**
 * One function, two customer tenants, through the fake Entra + Graph (real HTTPS): tokens per tenant,
 * mailboxes per tenant, admin consent per tenant. Onboarding goes through the consent callback as a browser
 * would follow Entra's redirect; then two sites in two tenants send, one tenant withdraws consent mid-stream
 * (its messages are held, the other tenant's flow), comes back (held messages go out by themselves), and a
 * site of tenant A tries every way into tenant B.
 */
const ADMIN_KEY = 'admin-key-0123456789abcdef0123456789abcdef';
const A = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
const B = 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb';
const PUBLIC_CALLBACK = 'https://bridge.example/api/v1/consent/callback';

let kit: Kit;
let host: LocalFunctionHost;
/** Mutable: the tenant-wide roles each tenant's tokens carry (a withdrawn consent that keeps the SP). */
const tenantRoles: Record<string, string[]> = {};
const secrets: Record<string, string> = {};

async function cli(...argv: string[]): Promise<string> {
  let out = '';
  const code = await runAdminCli(
    argv,
    { BRIDGE_ADMIN_URL: host.url, BRIDGE_ADMIN_KEY: ADMIN_KEY },
    (t) => (out += t),
  );
  if (code !== 0) throw new Error(`admin ${argv.join(' ')} → ${code}: ${out}`);
  return out;
}

/** What the admin's browser does: open the consent URL at Entra, follow its redirect to the function. */
async function consentInBrowser(
  consentUrl: string,
): Promise<{ status: number; html: string; callback: string }> {
  const entra = await fetch(consentUrl, { redirect: 'manual' });
  expect(entra.status).toBe(302);
  const location = new URL(entra.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(PUBLIC_CALLBACK);
  // The function's public https origin is served here by the local host on http.
  const callback = `${host.url}${location.pathname}${location.search}`;
  const page = await fetch(callback);
  return { status: page.status, html: await page.text(), callback };
}

const consentUrlOf = (out: string) => /https:\/\/\S+\/adminconsent\?\S+/.exec(out)?.[0] ?? '';

async function tenantState(id: string) {
  return (await kit.services.registry.getTenant(id))!;
}

beforeAll(async () => {
  kit = await startKit('multitenant', {
    settings: { BRIDGE_ADMIN_KEY: ADMIN_KEY, BRIDGE_CONSENT_REDIRECT_URI: PUBLIC_CALLBACK },
    sandbox: {
      tenants: [A, B],
      consentedTenants: [],
      tenantRoles,
      // Shorter than MSAL's 5-minute renewal margin: every send asks Entra, so a revocation is seen at once.
      tokenLifetimeSec: 60,
      // Tenant B also scopes the app in Exchange (its RBAC model): the grant that counts when its tokens carry no Mail role.
      exchangeRbac: [{ clientId: '*', tenantId: B, mailboxes: ['*@fabrikam.com'] }],
      mailboxes: [
        { address: 'scanner@contoso.com', tenantId: A },
        { address: 'noreply@contoso.com', tenantId: A },
        { address: 'scanner@fabrikam.com', tenantId: B },
        { address: 'noreply@fabrikam.com', tenantId: B },
      ],
    },
    overrides: { tuning: { tenantProbeMs: 1500 } },
  });
  host = await startLocalFunctionHost(kit.config, {
    services: kit.services,
    queue: { maxPollingIntervalMs: 200, visibilityTimeoutMs: 5000 },
    logHandler: () => undefined,
  });
});

afterAll(async () => {
  await host?.close();
  await kit?.close();
});

describe('onboarding through the consent callback', () => {
  it('records consent for tenant A only after a token was obtained there, and shows its service principal', async () => {
    const out = await cli('tenant', 'add', A, '--name', 'Contoso', '--model', 'tenantWideConsent');
    const page = await consentInBrowser(consentUrlOf(out));
    expect(page.status).toBe(200);
    expect(page.html).toContain('Consent recorded');
    const t = await tenantState(A);
    expect(t.consent).toBe('granted');
    expect(t.lastTokenSuccessAt).toBeDefined();
    expect(t.servicePrincipalObjectId).toMatch(/^[0-9a-f]{8}-/);
    // The state was used up: the same answer again is not accepted.
    expect((await fetch(page.callback)).status).toBe(400);
  });

  it('tenant B: a decline is shown in words, a spoofed tenant is refused, a not-yet-visible SP waits for a reload', async () => {
    const out = await cli('tenant', 'add', B, '--name', 'Fabrikam', '--model', 'exchangeRbac');
    const url = consentUrlOf(out);

    kit.graph.consent.answerNext({ decision: 'decline' });
    const declined = await consentInBrowser(url);
    expect(declined.status).toBe(400);
    expect(declined.html).toContain('Consent was not given');
    expect(declined.html).toContain('AADSTS65004: User declined to consent to access the app.');
    expect(declined.html).toContain('choose Accept');
    expect((await tenantState(B)).consent).toBe('declined');

    kit.graph.consent.answerNext({ decision: 'accept', reportTenant: A });
    const spoofed = await consentInBrowser(url);
    expect(spoofed.status).toBe(400);
    expect(spoofed.html).toContain('The answer names another tenant');
    expect((await tenantState(B)).consent).toBe('declined');

    // Entra says yes (and creates the SP), but the token endpoint does not see it yet (replication).
    const entra = await fetch(url, { redirect: 'manual' });
    kit.graph.consent.revoke(B);
    const location = new URL(entra.headers.get('location') ?? '');
    const callback = `${host.url}${location.pathname}${location.search}`;
    const waiting = await fetch(callback);
    expect(waiting.status).toBe(503);
    expect(await waiting.text()).toContain('AADSTS7000229');
    expect((await tenantState(B)).consent).toBe('declined');

    kit.graph.consent.grant(B);
    const reloaded = await fetch(callback);
    expect(reloaded.status).toBe(200);
    const html = await reloaded.text();
    // RBAC model: the page gives the scoping command with the SP object id of THIS tenant.
    const b = await tenantState(B);
    expect(b.consent).toBe('granted');
    expect(html).toContain(`-ServicePrincipalObjectId ${b.servicePrincipalObjectId}`);
    expect(b.servicePrincipalObjectId).not.toBe((await tenantState(A)).servicePrincipalObjectId);
  });

  it('refuses an answer with a state it never issued', async () => {
    const res = await fetch(
      `${host.url}/api/v1/consent/callback?admin_consent=True&tenant=${A}&state=forged`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await res.text()).toContain('not (or no longer) valid');
  });

  it('refuses (and forgets) a state older than a day', async () => {
    const state = 'old-state-0123456789';
    await kit.services.registry.addConsentRequest({
      state,
      tenantId: A,
      createdAt: new Date(Date.now() - 25 * 3_600_000).toISOString(),
    });
    const res = await fetch(
      `${host.url}/api/v1/consent/callback?admin_consent=True&tenant=${A}&state=${state}`,
    );
    expect(res.status).toBe(400);
    expect(await kit.services.registry.getConsentRequest(state)).toBeUndefined();
  });

  it('escapes what the answer carries', async () => {
    const out = await cli('tenant', 'consent-url', A);
    const state = new URL(out.trim()).searchParams.get('state') ?? '';
    const res = await fetch(
      `${host.url}/api/v1/consent/callback?state=${state}&error=x&error_description=${encodeURIComponent('<script>alert(1)</script>')}`,
    );
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
    // A tenant that consented already stays granted after a stray error answer.
    expect((await tenantState(A)).consent).toBe('granted');
  });
});

describe('two sites in two tenants through one function', () => {
  beforeAll(async () => {
    for (const [site, tenant, domain] of [
      ['contoso-hq', A, 'contoso.com'],
      ['fabrikam-hq', B, 'fabrikam.com'],
    ] as const) {
      const out = await cli(
        'site',
        'add',
        site,
        '--tenant',
        tenant,
        '--sender',
        `scanner@${domain}`,
        '--default-sender',
        `noreply@${domain}`,
      );
      secrets[site] = /BRIDGE_SITE_SECRET=(\S+)/.exec(out)?.[1] ?? '';
    }
  });

  const send = (site: string, opts: { from?: string; id?: string } = {}) =>
    postMessage(kit.services, {
      ...(opts.id ? { id: opts.id } : {}),
      mime: mimeMessage({
        ...(opts.from ? { from: opts.from } : { from: `scanner@${site.split('-')[0]}.com` }),
      }),
      envelope: { siteId: site, mailFrom: opts.from ?? `scanner@${site.split('-')[0]}.com` },
      post: { site, secret: secrets[site] as string },
    });

  it('each site sends in its own tenant, from its own mailbox', async () => {
    kit.graph.clear();
    const a = await send('contoso-hq');
    const b = await send('fabrikam-hq');
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    const sent = kit.graph.messages();
    expect(sent.map((m) => [m.tenantId, m.mailbox])).toEqual([
      [A, 'scanner@contoso.com'],
      [B, 'scanner@fabrikam.com'],
    ]);
  });

  describe('isolation: a site of tenant A never sends in tenant B', () => {
    it('a forged envelope naming B’s site is refused (the signed site header decides)', async () => {
      kit.graph.clear();
      const id = newMessageId();
      const framed = frame(
        envelopeFor(id, { siteId: 'fabrikam-hq', mailFrom: 'scanner@fabrikam.com' }),
        mimeMessage({ from: 'scanner@fabrikam.com' }),
      );
      const res = await makeSendMessageHandler(() => kit.services)(
        postRequest(framed, id, { site: 'contoso-hq', secret: secrets['contoso-hq'] }),
        invocation().context,
      );
      expect(bodyOf(res).error?.code).toBe('WIRE_MALFORMED');
      expect(kit.graph.messages()).toHaveLength(0);
    });

    it('a From in B’s domain is sent by A’s default mailbox in tenant A (Reply-To kept), never in B', async () => {
      kit.graph.clear();
      const r = await send('contoso-hq', { from: 'scanner@fabrikam.com' });
      expect(r.res.status).toBe(200);
      const [m] = kit.graph.messages();
      expect(m).toMatchObject({ tenantId: A, mailbox: 'noreply@contoso.com' });
      expect(m?.replyTo).toEqual(['scanner@fabrikam.com']);
      expect(kit.graph.messages().filter((x) => x.tenantId === B)).toHaveLength(0);
    });

    it('B’s message id is A’s own record: no access to B’s state, no effect on B’s message', async () => {
      kit.graph.clear();
      const b = await send('fabrikam-hq');
      const bOnly = newMessageId();
      await send('fabrikam-hq', { id: bOnly });
      const statusAsA = await makeMessageStatusHandler(() => kit.services)(
        statusRequest(bOnly, { site: 'contoso-hq', secret: secrets['contoso-hq'] }),
        invocation('messageStatus').context,
      );
      expect(bodyOf(statusAsA).error?.code).toBe('MESSAGE_NOT_FOUND');
      const a = await send('contoso-hq', { id: b.id });
      expect(a.res.status).toBe(200);
      expect(a.body.replayed).toBeUndefined(); // A's own new message, not B's recorded answer
      expect(kit.graph.messages().map((m) => m.tenantId)).toEqual([B, B, A]);
      expect((await kit.services.store.get('fabrikam-hq', b.id))?.state).toBe('sent');
    });

    it('a replayed request of B’s is answered from B’s record (nothing sent again), and cannot be re-signed as A', async () => {
      kit.graph.clear();
      const id = newMessageId();
      const framed = frame(
        envelopeFor(id, { siteId: 'fabrikam-hq', mailFrom: 'scanner@fabrikam.com' }),
        mimeMessage({ from: 'scanner@fabrikam.com' }),
      );
      const request = () => postRequest(framed, id, { site: 'fabrikam-hq', secret: secrets['fabrikam-hq'] });
      const handler = makeSendMessageHandler(() => kit.services);
      const original = request();
      const replayHeaders = Object.fromEntries(original.headers.entries());
      expect((await handler(original, invocation().context)).status).toBe(200);
      const replay = await handler(request(), invocation().context);
      expect(bodyOf(replay).replayed).toBe(true);
      // The captured headers with A's site name: the signature no longer matches any of A's secrets.
      const asA = await handler(
        new HttpRequest({
          method: 'POST',
          url: original.url,
          headers: { ...replayHeaders, [WIRE_HEADERS.site]: 'contoso-hq' },
          body: { bytes: framed },
        }),
        invocation().context,
      );
      expect(bodyOf(asA).error?.code).toBe('SITE_SIGNATURE_INVALID');
      // Replayed after the window: refused as stale.
      const late = await postMessage(kit.services, {
        envelope: { siteId: 'fabrikam-hq' },
        post: {
          site: 'fabrikam-hq',
          secret: secrets['fabrikam-hq'],
          now: new Date(Date.now() - 10 * 60_000),
        },
      });
      expect(late.body.error?.code).toBe('REQUEST_STALE');
      expect(kit.graph.messages()).toHaveLength(1);
    });
  });

  it('revocation of tenant A mid-stream: A’s messages are held (not failed), B flows; A resumes by itself after consent returns', async () => {
    kit.graph.clear();
    kit.graph.consent.revoke(A); // the customer deleted the enterprise application
    const held = await send('contoso-hq');
    expect(held.res.status).toBe(202);
    expect(held.body.state).toBe('queued');
    expect(held.body.lastError).toMatchObject({ code: 'TENANT_CONSENT_REVOKED', retryable: true });
    const a = await tenantState(A);
    expect(a).toMatchObject({ consent: 'revoked', lastTokenErrorCode: 'AADSTS7000229' });
    expect(a.consentReason).toContain('service principal is missing');

    const b = await send('fabrikam-hq');
    expect(b.res.status).toBe(200);
    // While revoked, the next message of A does not even ask Entra (within the probe interval).
    const tokenCalls = kit.graph.tokenRequests().filter((t) => t.tenantId === A).length;
    const held2 = await send('contoso-hq');
    expect(held2.body.lastError?.code).toBe('TENANT_CONSENT_REVOKED');
    expect(kit.graph.tokenRequests().filter((t) => t.tenantId === A).length).toBe(tokenCalls);

    // Several probe intervals pass: the queue keeps trying, the messages stay held, no attempt is counted.
    await new Promise((r) => setTimeout(r, 4000));
    for (const id of [held.id, held2.id]) {
      const r = await kit.services.store.get('contoso-hq', id);
      expect(r).toMatchObject({ state: 'queued', errorCode: 'TENANT_CONSENT_REVOKED', attempts: 0 });
    }
    expect(kit.graph.messages().filter((m) => m.tenantId === A)).toHaveLength(0);
    const shown = await cli('tenant', 'show', A);
    expect(shown).toContain('consent          revoked');
    expect(shown).toContain('AADSTS7000229');
    expect(shown).toMatch(/held 2/);

    kit.graph.consent.grant(A); // the customer admin consented again
    await vi.waitFor(
      async () => {
        for (const id of [held.id, held2.id])
          expect((await kit.services.store.get('contoso-hq', id))?.state).toBe('sent');
      },
      { timeout: 20_000, interval: 250 },
    );
    expect((await tenantState(A)).consent).toBe('granted');
    expect(kit.graph.messages().filter((m) => m.tenantId === A)).toHaveLength(2);
  });

  it('a token without Mail.Send (consent withdrawn, SP kept) holds a tenant-wide-consent tenant too', async () => {
    tenantRoles[A] = ['User.Read.All'];
    try {
      const held = await send('contoso-hq');
      expect(held.body.lastError?.code).toBe('TENANT_CONSENT_REVOKED');
      expect(await tenantState(A)).toMatchObject({ consent: 'revoked', lastTokenErrorCode: 'NO_MAIL_ROLE' });
      // B is in the RBAC model: its tokens carry no Mail role by design and it is not judged by them.
      tenantRoles[B] = [];
      expect((await send('fabrikam-hq')).res.status).toBe(200);
    } finally {
      delete tenantRoles[A];
      delete tenantRoles[B];
    }
    await vi.waitFor(async () => expect((await tenantState(A)).consent).toBe('granted'), {
      timeout: 20_000,
      interval: 250,
    });
  });

  it('a per-site rate limit stops one site, not the others', async () => {
    const out = await cli(
      'site',
      'add',
      'contoso-lab',
      '--tenant',
      A,
      '--sender',
      'scanner@contoso.com',
      '--rate-per-minute',
      '2',
    );
    secrets['contoso-lab'] = /BRIDGE_SITE_SECRET=(\S+)/.exec(out)?.[1] ?? '';
    const lab = () =>
      postMessage(kit.services, {
        mime: mimeMessage(),
        envelope: { siteId: 'contoso-lab' },
        post: { site: 'contoso-lab', secret: secrets['contoso-lab'] },
      });
    expect((await lab()).res.status).toBe(200);
    expect((await lab()).res.status).toBe(200);
    const third = await lab();
    expect(third.res.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'SITE_RATE_LIMITED', retryable: true });
    expect(
      Number(new Headers(third.res.headers as Record<string, string>).get('retry-after')),
    ).toBeGreaterThan(0);
    expect(await kit.services.store.get('contoso-lab', third.id)).toBeUndefined(); // nothing recorded
    expect((await send('contoso-hq')).res.status).toBe(200);
  });
});
