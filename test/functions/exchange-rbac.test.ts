import { randomBytes } from 'node:crypto';

import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DIAGNOSTICS_PATH, type DiagnosticsReport } from '../../core/diagnostics';
import { EMPTY_SHA256, signedHeaders } from '../../core/wire';
import { createFunctionServices } from '../../functions/function-services';
import { makeDiagnosticsHandler } from '../../functions/http/diagnostics-handler';
import {
  callDeepHealth,
  invocation,
  kitConfig,
  mimeMessage,
  OTHER_SECRET,
  OTHER_SITE,
  postMessage,
  SENDER,
  SITE,
  SITE_SECRET,
  startKit,
  type Kit,
} from './function-test-kit';

/**
 * The default deployment (mailPermissionModel exchangeRbac) seen from the function: tokens without Mail.*
 * roles, Exchange RBAC for Applications granting both roles for scanner@ only (the Graph sandbox models it).
 * Site "branch" sends from a tenant where admin consent was granted as well, which makes the scope moot.
 */
const OUTSIDE = 'outside@contoso.com';
const APP = 'app-client-id';

let kit: Kit;
beforeAll(async () => {
  kit = await startKit('rbac', {
    settings: {
      BRIDGE_ALLOWED_SENDERS: '*@contoso.com',
      BRIDGE_DEFAULT_SENDER: SENDER,
      BRIDGE_MAIL_PERMISSION_MODEL: 'exchangeRbac',
      BRIDGE_SITES: JSON.stringify([{ id: OTHER_SITE, tenantId: 'tenant-consented' }]),
    },
    sandbox: {
      roles: ['User.Read.All'],
      tenantRoles: { 'tenant-consented': ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'] },
      mailboxes: [SENDER, OUTSIDE],
      exchangeRbac: [{ clientId: APP, mailboxes: [SENDER] }],
    },
  });
});
afterAll(() => kit.close());
beforeEach(() => kit.graph.clear());

async function diagnostics(site: string, secret: string): Promise<DiagnosticsReport> {
  const nonce = `doctor-${randomBytes(8).toString('hex')}`;
  const headers = signedHeaders({
    siteId: site,
    messageId: nonce,
    bodySha256: EMPTY_SHA256,
    secret,
    method: 'GET',
    path: DIAGNOSTICS_PATH,
  });
  const res = await makeDiagnosticsHandler(() => kit.services)(
    new HttpRequest({ method: 'GET', url: `https://bridge.example${DIAGNOSTICS_PATH}`, headers }),
    invocation('diagnostics').context,
  );
  expect(res.status).toBe(200);
  return res.jsonBody as DiagnosticsReport;
}

describe('a deployment whose only mail permission is Exchange RBAC for Applications', () => {
  it('sends as the mailbox in scope, and defers one outside it as GRAPH_ACCESS_DENIED naming the RBAC scope', async () => {
    const inScope = await postMessage(kit.services, { mime: mimeMessage({ subject: 'In scope' }) });
    expect(inScope.body).toMatchObject({ id: inScope.id, state: 'sent', sender: SENDER });
    expect(kit.graph.messages().map((m) => [m.mailbox, m.subject])).toEqual([[SENDER, 'In scope']]);

    const { id: outside, body } = await postMessage(kit.services, {
      mime: mimeMessage({ subject: 'Outside', from: OUTSIDE }),
      envelope: { mailFrom: OUTSIDE },
    });
    expect(body).toMatchObject({
      id: outside,
      sender: OUTSIDE,
      // Queued in the cloud and retried until the horizon (an RBAC scope may still be propagating).
      state: 'queued',
      lastError: { code: 'GRAPH_ACCESS_DENIED', graph: { status: 403, code: 'ErrorAccessDenied' } },
    });
    expect(body.lastError?.detail).toMatch(
      /outside the app's Exchange RBAC for Applications scope .*Access to OData is disabled/,
    );
    expect(body.lastError?.hint).toMatch(/Exchange RBAC for Applications scope/);
    expect(kit.graph.messages()).toHaveLength(1);
  });

  it('deep health: healthy although the token has no Mail.* role, the grants come from Exchange RBAC', async () => {
    const { status, body } = await callDeepHealth(() => kit.services);
    expect(body.problems).toEqual([]);
    expect(status).toBe(200);
    expect(body.permissionModel).toBe('exchangeRbac');
    const home = body.graph.find((g) => g.tenantId === 'tenant-home');
    expect(home).toMatchObject({
      ok: true,
      roles: ['User.Read.All'],
      missingRoles: ['Mail.Send', 'Mail.ReadWrite'],
    });
    expect(home?.grants?.map((g) => g.statement)).toEqual([
      'Mail.Send: granted by Exchange RBAC for scanner@contoso.com',
      'Mail.ReadWrite: granted by Exchange RBAC for scanner@contoso.com',
      'Mail.ReadBasic: granted by Exchange RBAC for scanner@contoso.com',
    ]);
    expect(home?.warnings).toBeUndefined();
    // Probing sent nothing.
    expect(kit.graph.messages()).toHaveLength(0);
  });

  it('deep health: warns, without failing, about a tenant where consent makes the scope moot', async () => {
    const { status, body } = await callDeepHealth(() => kit.services, {
      site: OTHER_SITE,
      secret: OTHER_SECRET,
    });
    expect(status).toBe(200);
    const branch = body.graph.find((g) => g.tenantId === 'tenant-consented');
    expect(branch?.grants?.map((g) => [g.permission, g.source])).toEqual([
      ['Mail.Send', 'tenant-wide'],
      ['Mail.ReadWrite', 'tenant-wide'],
      ['Mail.ReadBasic', 'tenant-wide'],
    ]);
    expect(branch?.grants?.[0]?.statement).toBe('Mail.Send: granted tenant-wide (Entra consent)');
    expect(branch?.warnings).toEqual([
      expect.stringMatching(
        /The two grants add up: .* the Exchange scope limits nothing\. Revoke the consent/,
      ),
    ]);
  });

  it('deep health: fails for a configured sender outside the scope, saying which and why', async () => {
    const services = createFunctionServices(
      kitConfig(kit.graph, 'rbacout', { BRIDGE_ALLOWED_SENDERS: `${SENDER},${OUTSIDE}` }),
    );
    const { status, body } = await callDeepHealth(() => services);
    expect(status).toBe(503);
    expect(body.problems).toEqual([
      expect.objectContaining({
        code: 'GRAPH_ACCESS_DENIED',
        detail: expect.stringMatching(
          /^outside@contoso\.com: the mailbox is outside the app's Exchange RBAC/,
        ),
      }),
    ]);
    const home = body.graph[0];
    expect(home?.ok).toBe(false);
    expect(home?.grants?.map((g) => g.statement)).toEqual([
      'Mail.Send: granted by Exchange RBAC for scanner@contoso.com',
      'Mail.ReadWrite: granted by Exchange RBAC for scanner@contoso.com',
      'Mail.ReadBasic: granted by Exchange RBAC for scanner@contoso.com',
      'Mail.Send: not granted for outside@contoso.com',
    ]);
  });

  it('diagnostics: reports the declared model and where each grant comes from', async () => {
    const hq = await diagnostics(SITE, SITE_SECRET);
    expect(hq.permissionModel).toBe('exchangeRbac');
    expect(hq.token).toMatchObject({ ok: true, roles: ['User.Read.All'] });
    expect(hq.grants?.map((g) => [g.permission, g.mailbox, g.source])).toEqual([
      ['Mail.Send', SENDER, 'exchange-rbac'],
      ['Mail.ReadWrite', SENDER, 'exchange-rbac'],
      ['Mail.ReadBasic', SENDER, 'exchange-rbac'],
    ]);
    expect(hq.grantOverlap).toBeUndefined();

    const branch = await diagnostics(OTHER_SITE, OTHER_SECRET);
    expect(branch.grants?.map((g) => g.source)).toEqual(['tenant-wide', 'tenant-wide', 'tenant-wide']);
    expect(branch.grantOverlap).toMatchObject({ roles: ['Mail.Send', 'Mail.ReadWrite'] });
    expect(branch.grantOverlap?.fix).toContain(`az ad app permission delete --id ${APP} `);
  });
});
