import { describe, expect, it } from 'vitest';

import {
  APP_CLIENT_ID,
  check,
  doctor,
  type DoctorStack,
  mailboxCheck,
  SENDER,
  siteEnv,
  useDoctorStack,
} from './doctor-stack';

/**
 * The default deployment (mailPermissionModel exchangeRbac): the app holds no Entra mail permission, so its
 * tokens carry no Mail.* role; Exchange RBAC for Applications grants Mail.Send and Mail.ReadWrite for
 * scanner@ only. Site "consented" lives in a tenant where someone also granted admin consent — the case
 * where the tenant-wide grant makes the scope moot (docs/design/platform-facts.md §A5).
 */
const OUTSIDE = 'outside@contoso.com';

let stack: DoctorStack;
useDoctorStack(
  (s) => (stack = s),
  {
    tenants: ['tenant-home', 'tenant-consented'],
    roles: ['User.Read.All'],
    tenantRoles: { 'tenant-consented': ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'] },
    mailboxes: [SENDER, OUTSIDE],
    exchangeRbac: [{ clientId: APP_CLIENT_ID, mailboxes: [SENDER] }],
  },
  { BRIDGE_MAIL_PERMISSION_MODEL: 'exchangeRbac' },
);

describe('doctor with Exchange RBAC for Applications and no Entra mail permission', () => {
  it('passes every check: a token without Mail.Send is expected, the mailbox probes prove the grants', async () => {
    const run = await doctor(stack.env, ['--json']);
    expect(run.report!.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(run.code).toBe(0);
    expect(check(run, 'graph-token').details).toMatchObject({ roles: ['User.Read.All'] });
    const send = check(run, 'graph-mail-send');
    expect(send.summary).toMatch(/^Mail\.Send: granted by Exchange RBAC for scanner@contoso\.com\. /);
    expect(send.details).toMatchObject({ source: 'exchange-rbac', mailboxes: [SENDER] });
    const rw = check(run, 'graph-mail-readwrite');
    expect(rw.summary).toMatch(/^Mail\.ReadWrite: granted by Exchange RBAC for scanner@contoso\.com\. /);
    expect(rw.details).toMatchObject({ needed: true, source: 'exchange-rbac' });
    expect(mailboxCheck(run, SENDER).summary).toContain(
      'Mail.Send: granted by Exchange RBAC for scanner@contoso.com.',
    );
    // The probes touched Graph (a refused empty sendMail, a draft created and deleted) but kept nothing.
    const routes = stack.graph.requests().map((r) => `${r.route} ${r.status}`);
    expect(routes).toEqual(
      expect.arrayContaining(['sendMail 400', 'createMessage 201', 'deleteMessage 204']),
    );
    expect(stack.graph.messages()).toHaveLength(0);

    const text = await doctor(stack.env);
    expect(text.output).not.toMatch(/^[✗!] /m);
    expect(text.output).toMatch(/All \d+ checks passed\./);
  });

  it('sends a real test message as the mailbox in scope', async () => {
    const run = await doctor(stack.env, ['--json', '--send-to', 'alice@fabrikam.com']);
    expect(check(run, 'test-message').status).toBe('pass');
    expect(stack.graph.messages().map((m) => [m.mailbox, m.to])).toEqual([[SENDER, ['alice@fabrikam.com']]]);
  });

  it('says "not granted" for a mailbox outside the scope, with the script as the fix, and the test message fails GRAPH_ACCESS_DENIED', async () => {
    const run = await doctor(stack.env, ['--json', '--from', OUTSIDE, '--send-to', 'alice@fabrikam.com']);
    expect(run.code).toBe(1);
    const m = mailboxCheck(run, OUTSIDE);
    expect(m).toMatchObject({ status: 'fail', details: { code: 'GRAPH_ACCESS_DENIED' } });
    expect(m.summary).toMatch(
      /^Mail\.Send: not granted for outside@contoso\.com\. .*outside the app's Exchange RBAC for Applications scope/,
    );
    expect(m.fix).toMatch(/Set-BridgeMailboxScope\.ps1/);
    // The permission itself is there (for scanner@): the Mail.Send check names both mailboxes and passes.
    const send = check(run, 'graph-mail-send');
    expect(send).toMatchObject({ status: 'pass', details: { notGranted: [OUTSIDE] } });
    expect(send.summary).toContain('Mail.Send: not granted for outside@contoso.com.');

    const test = check(run, 'test-message');
    expect(test).toMatchObject({ status: 'fail', details: { code: 'GRAPH_ACCESS_DENIED' } });
    expect(test.summary).toMatch(/outside the app's Exchange RBAC for Applications scope/);
    expect(test.fix).toMatch(/Set-BridgeMailboxScope\.ps1/);
    expect(stack.graph.messages()).toHaveLength(0);
  });

  it("does not get a mailbox outside the site's policy probed: the function refuses it, doctor says why", async () => {
    const foreign = 'payroll@fabrikam.com';
    const run = await doctor(stack.env, ['--json', '--from', foreign]);
    const m = mailboxCheck(run, foreign);
    expect(m.status).toBe('skip');
    expect(m.summary).toMatch(/may not send as payroll@fabrikam\.com .*probes only the site's own mailboxes/);
    expect(stack.graph.requests().filter((r) => r.mailbox === foreign)).toEqual([]);
    // The site's own mailbox was still checked in the same run.
    expect(mailboxCheck(run, SENDER).status).toBe('pass');
  });

  it('fails Mail.Send with the script as the fix when no probed mailbox is granted', async () => {
    stack.graph.inject({
      route: 'sendMail',
      mailbox: SENDER,
      status: 403,
      code: 'ErrorAccessDenied',
      message: 'Access to OData is disabled.',
    });
    const run = await doctor(stack.env, ['--json']);
    expect(run.code).toBe(1);
    const send = check(run, 'graph-mail-send');
    expect(send).toMatchObject({ status: 'fail', details: { source: 'none', notGranted: [SENDER] } });
    expect(send.summary).toMatch(
      /^Mail\.Send: not granted for scanner@contoso\.com\. The token carries no Mail\.Send\./,
    );
    expect(send.fix).toMatch(
      /^This deployment scopes mailboxes with Exchange RBAC .*Set-BridgeMailboxScope\.ps1 -Mailbox scanner@contoso\.com .*do not grant admin consent/,
    );
  });

  it('warns, without failing, when a tenant-wide consent makes the Exchange scope moot', async () => {
    const run = await doctor(siteEnv(stack, 'consented'), ['--json']);
    expect(run.code).toBe(0);
    expect(run.report!.healthy).toBe(true);
    expect(run.report!.counts).toMatchObject({ fail: 0, warn: 1 });
    const send = check(run, 'graph-mail-send');
    expect(send.status).toBe('warn');
    expect(send.summary).toMatch(/^Mail\.Send: granted tenant-wide \(Entra consent\)\./);
    expect(send.summary).toMatch(
      /The two grants add up: the app may use every mailbox .* the Exchange scope limits nothing/,
    );
    expect(send.fix).toMatch(/revoke Mail\.Send and Mail\.ReadWrite/);
    expect(send.fix).toContain(`az ad app permission delete --id ${APP_CLIENT_ID} `);
    expect(send.details).toMatchObject({ overlap: ['Mail.Send', 'Mail.ReadWrite'] });
    // Said once: the Mail.ReadWrite check just reports the tenant-wide grant.
    expect(check(run, 'graph-mail-readwrite')).toMatchObject({
      status: 'pass',
      details: { source: 'consent' },
    });
    expect(mailboxCheck(run, SENDER).summary).toContain('Mail.Send: granted tenant-wide (Entra consent).');

    const text = await doctor(siteEnv(stack, 'consented'));
    expect(text.output).toMatch(/^! The app holds Mail\.Send$/m);
    expect(text.output).toMatch(/^ {4}Fix: Revoke the consent/m);
    expect(text.output).toMatch(/All \d+ checks passed \(1 warning\)\./);
  });
});
