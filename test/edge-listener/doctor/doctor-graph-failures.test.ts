import { describe, expect, it } from 'vitest';

import {
  check,
  doctor,
  type DoctorStack,
  mailboxCheck,
  SENDER,
  siteEnv,
  useDoctorStack,
} from './doctor-stack';

let stack: DoctorStack;
useDoctorStack((s) => (stack = s));

describe('doctor turns Microsoft 365 refusals into sentences an admin can act on', () => {
  it('token without Mail.Send: no consent and no Exchange RBAC grant, with the admin-consent URL', async () => {
    const run = await doctor(siteEnv(stack, 'noconsent'), ['--json']);
    expect(run.code).toBe(1);
    expect(check(run, 'graph-token')).toMatchObject({
      status: 'pass',
      details: { roles: ['User.Read.All'] },
    });
    const send = check(run, 'graph-mail-send');
    expect(send.status).toBe('fail');
    expect(send.summary).toMatch(
      /The token carries no Mail\.Send\. .*Mail\.Send \(Application\) is neither admin-consented in tenant tenant-noconsent nor assigned .*Exchange RBAC/,
    );
    expect(send.fix).toContain(
      `${stack.graph.authorityHost}/tenant-noconsent/adminconsent?client_id=11111111-2222-3333-4444-555555555555`,
    );
    expect(send.fix).toMatch(/Set-BridgeMailboxScope\.ps1/);
    expect(mailboxCheck(run, SENDER)).toMatchObject({
      status: 'fail',
      details: { code: 'GRAPH_ACCESS_DENIED' },
    });
    expect(stack.graph.messages()).toHaveLength(0);
  });

  it('token without Mail.ReadWrite: large messages would fail, proven with a draft probe', async () => {
    const run = await doctor(siteEnv(stack, 'nolarge'), ['--json']);
    expect(run.code).toBe(1);
    expect(check(run, 'graph-mail-send').status).toBe('pass');
    const rw = check(run, 'graph-mail-readwrite');
    expect(rw.status).toBe('fail');
    expect(rw.summary).toMatch(
      /Mail\.ReadWrite \(Application\) is neither admin-consented .* Messages too large for one Graph request \(about 3 MB\) need it/,
    );
    expect(rw.fix).toMatch(/lower BRIDGE_MAX_MESSAGE_BYTES/);
    expect(stack.graph.requests().some((r) => r.route === 'createMessage' && r.status === 403)).toBe(true);
  });

  it('no Mail.ReadWrite is fine when messages fit one Graph request', async () => {
    const run = await doctor({ ...siteEnv(stack, 'nolarge'), BRIDGE_MAX_MESSAGE_BYTES: '2MiB' }, ['--json']);
    expect(check(run, 'graph-mail-readwrite')).toMatchObject({ status: 'pass', details: { needed: false } });
    expect(run.code).toBe(0);
  });

  it('mailbox outside the Exchange RBAC for Applications scope: "Access to OData is disabled"', async () => {
    const run = await doctor(stack.env, ['--json', '--from', 'outside@contoso.com']);
    expect(run.code).toBe(1);
    const m = mailboxCheck(run, 'outside@contoso.com');
    expect(m).toMatchObject({
      status: 'fail',
      details: { code: 'GRAPH_ACCESS_DENIED', graph: { status: 403, code: 'ErrorAccessDenied' } },
    });
    expect(m.summary).toMatch(/outside the app's Exchange RBAC for Applications scope/);
    expect(m.fix).toMatch(
      /Test-ServicePrincipalAuthorization -Identity 11111111-2222-3333-4444-555555555555 -Resource outside@contoso\.com/,
    );
    expect(mailboxCheck(run, SENDER).status).toBe('pass');
    // Consent is there (the token carries Mail.Send): the scope, not the permission, is the problem.
    expect(check(run, 'graph-mail-send').status).toBe('pass');
  });

  it('mailbox without an Exchange Online licence: MailboxNotEnabledForRESTAPI', async () => {
    const run = await doctor(stack.env, ['--json', '--from', 'unlicensed@contoso.com']);
    const m = mailboxCheck(run, 'unlicensed@contoso.com');
    expect(m).toMatchObject({
      status: 'fail',
      details: { code: 'GRAPH_MAILBOX_NOT_FOUND', graph: { code: 'MailboxNotEnabledForRESTAPI' } },
    });
    expect(m.summary).toMatch(
      /has no Exchange Online licence, or the mailbox is inactive, soft-deleted or hosted on-premises/,
    );
    expect(m.fix).toMatch(/Assign a licence that includes Exchange Online/);
  });

  it('mailbox that does not exist in the tenant', async () => {
    const run = await doctor(stack.env, ['--json', '--from', 'nobody@contoso.com']);
    const m = mailboxCheck(run, 'nobody@contoso.com');
    expect(m.summary).toBe('There is no user nobody@contoso.com in tenant tenant-home (ErrorInvalidUser).');
  });

  it('send-as denied: ErrorSendAsDenied', async () => {
    stack.graph.inject({
      route: 'sendMail',
      mailbox: 'sendas@contoso.com',
      status: 403,
      code: 'ErrorSendAsDenied',
      message:
        'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.',
    });
    const run = await doctor(stack.env, ['--json', '--from', 'sendas@contoso.com']);
    const m = mailboxCheck(run, 'sendas@contoso.com');
    expect(m).toMatchObject({ status: 'fail', details: { code: 'GRAPH_SEND_AS_DENIED' } });
    expect(m.summary).toMatch(/refuses to let sendas@contoso\.com send as the From address/);
    expect(m.fix).toMatch(
      /Add-RecipientPermission -Identity <From address> -Trustee sendas@contoso\.com -AccessRights SendAs/,
    );
  });

  it('throttled: says nothing is lost and how long Graph asks to wait', async () => {
    stack.graph.inject({
      route: 'sendMail',
      mailbox: 'busy@contoso.com',
      status: 429,
      code: 'ApplicationThrottled',
      message: 'Application is over its MailboxConcurrency limit.',
      retryAfterSec: 30,
    });
    const run = await doctor(stack.env, ['--json', '--from', 'busy@contoso.com']);
    const m = mailboxCheck(run, 'busy@contoso.com');
    expect(m).toMatchObject({ status: 'fail', details: { code: 'GRAPH_THROTTLED', graph: { status: 429 } } });
    expect(m.summary).toBe(
      'Microsoft Graph is throttling the app for busy@contoso.com right now and asks to wait 30 s. Nothing is lost: messages wait and are retried.',
    );
    expect(m.fix).toMatch(/BRIDGE_MAILBOX_CONCURRENCY/);
  });

  it('tenant that Entra ID does not know: the token request fails with AADSTS90002', async () => {
    const run = await doctor(siteEnv(stack, 'ghost'), ['--json']);
    const token = check(run, 'graph-token');
    expect(token).toMatchObject({ status: 'fail', details: { code: 'GRAPH_TOKEN_FAILED' } });
    expect(token.summary).toBe('Entra ID does not know tenant tenant-ghost (AADSTS90002: tenant not found).');
    expect(check(run, 'graph-mail-send').status).toBe('skip');
    expect(check(run, 'sender-mailbox').status).toBe('skip');
  });

  it('test message from an unlicensed sender: the device gets the 5xx and doctor explains it', async () => {
    const run = await doctor(stack.env, [
      '--json',
      '--send-to',
      'alice@fabrikam.com',
      '--from',
      'unlicensed@contoso.com',
    ]);
    const test = check(run, 'test-message');
    expect(test).toMatchObject({ status: 'fail', details: { code: 'GRAPH_MAILBOX_NOT_FOUND' } });
    expect(test.summary).toMatch(
      /^The listener refused the test message: 550 5\.1\.1 GRAPH_MAILBOX_NOT_FOUND/,
    );
    expect(stack.graph.messages()).toHaveLength(0);
  });
});
