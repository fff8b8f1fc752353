import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseSandboxCli } from '../../../dev/graph-sandbox/cli-options';
import { startFakeGraph, type GraphSandbox, type SandboxOptions } from '../../helpers/fake-graph';

/**
 * Exchange Online RBAC for Applications in the sandbox: grants per app and mailbox that add to the token's
 * roles (docs/design/platform-facts.md §A5), with Graph's two refusals — "Access is denied" when the app holds the
 * permission nowhere, "Access to OData is disabled" when it holds it, but not for this mailbox.
 */
const APP = 'bridge-app';
const IN_SCOPE = 'scanner@contoso.example';
const OUTSIDE = 'ceo@contoso.example';
const ODATA = { status: 403, code: 'ErrorAccessDenied', message: 'Access to OData is disabled.' };
const DENIED = {
  status: 403,
  code: 'ErrorAccessDenied',
  message: 'Access is denied. Check credentials and try again.',
};

const simple = {
  subject: 'hi',
  body: { contentType: 'text', content: 'x' },
  toRecipients: [{ emailAddress: { address: 'a@fabrikam.example' } }],
};

async function graphCall(
  sandbox: { url: string },
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; code?: string; message?: string; json: Record<string, unknown> }> {
  const res = await fetch(`${sandbox.url}/v1.0${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  const error = json.error as { code?: string; message?: string } | undefined;
  return {
    status: res.status,
    json,
    ...(error?.code ? { code: error.code } : {}),
    ...(error?.message ? { message: error.message } : {}),
  };
}

const refusal = (r: { status: number; code?: string; message?: string }) => ({
  status: r.status,
  code: r.code,
  message: r.message,
});

function send(sandbox: GraphSandbox, token: string, mailbox: string) {
  return graphCall(sandbox, token, 'POST', `/users/${encodeURIComponent(mailbox)}/sendMail`, {
    message: simple,
  });
}

const sandboxes: GraphSandbox[] = [];
async function start(options: Omit<SandboxOptions, 'cert' | 'key'>): Promise<GraphSandbox> {
  const s = await startFakeGraph(options);
  sandboxes.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
});

describe('graph sandbox: Exchange RBAC for Applications', () => {
  let rbacOnly: GraphSandbox;
  beforeAll(async () => {
    rbacOnly = await start({
      roles: ['User.Read.All'],
      mailboxes: [
        IN_SCOPE,
        OUTSIDE,
        'desk@fabrikam.example',
        { address: 'old@contoso.example', licensed: false },
      ],
      exchangeRbac: [
        { clientId: APP, mailboxes: [IN_SCOPE, '*@fabrikam.example', 'old@contoso.example'] },
        { clientId: 'send-only-app', mailboxes: [IN_SCOPE], roles: ['Application Mail.Send'] },
        { clientId: 'tenant-app', tenantId: 'tenant-a', mailboxes: ['*'] },
      ],
    });
  });

  it('lets an app without Mail.* roles send as the mailboxes its assignment covers, by address or domain', async () => {
    const token = rbacOnly.issueToken({ appid: APP, roles: [] });
    expect((await send(rbacOnly, token, IN_SCOPE)).status).toBe(202);
    expect((await send(rbacOnly, token, 'desk@fabrikam.example')).status).toBe(202);
    expect(refusal(await send(rbacOnly, token, OUTSIDE))).toEqual(ODATA);
    expect(rbacOnly.messages().map((m) => m.mailbox)).toEqual([IN_SCOPE, 'desk@fabrikam.example']);
  });

  it('answers "Access is denied" to an app that holds the permission nowhere, and checks the licence before the scope', async () => {
    const stranger = rbacOnly.issueToken({ appid: 'other-app', roles: [] });
    expect(refusal(await send(rbacOnly, stranger, IN_SCOPE))).toEqual(DENIED);
    const token = rbacOnly.issueToken({ appid: APP, roles: [] });
    expect(refusal(await send(rbacOnly, token, 'old@contoso.example'))).toMatchObject({
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
    });
  });

  it('grants each role on its own: drafts need "Application Mail.ReadWrite"', async () => {
    const both = rbacOnly.issueToken({ appid: APP, roles: [] });
    const draft = await graphCall(rbacOnly, both, 'POST', `/users/${IN_SCOPE}/messages`, { subject: 'd' });
    expect(draft.status).toBe(201);
    expect(refusal(await graphCall(rbacOnly, both, 'POST', `/users/${OUTSIDE}/messages`, {}))).toEqual(ODATA);
    const deleted = await graphCall(
      rbacOnly,
      both,
      'DELETE',
      `/users/${IN_SCOPE}/messages/${String(draft.json.id)}`,
    );
    expect(deleted.status).toBe(204);

    const sendOnly = rbacOnly.issueToken({ appid: 'send-only-app', roles: [] });
    expect((await send(rbacOnly, sendOnly, IN_SCOPE)).status).toBe(202);
    expect(refusal(await graphCall(rbacOnly, sendOnly, 'POST', `/users/${IN_SCOPE}/messages`, {}))).toEqual(
      DENIED,
    );
  });

  it('keeps an assignment to its own tenant', async () => {
    const inA = rbacOnly.issueToken({ appid: 'tenant-app', tid: 'tenant-a', roles: [] });
    const inB = rbacOnly.issueToken({ appid: 'tenant-app', tid: 'tenant-b', roles: [] });
    expect((await send(rbacOnly, inA, OUTSIDE)).status).toBe(202);
    expect(refusal(await send(rbacOnly, inB, OUTSIDE))).toEqual(DENIED);
  });

  it('issues tokens without Mail.* roles from the token endpoint, yet Graph lets the app in for its scope', async () => {
    const res = await fetch(`${rbacOnly.authorityHost}/tenant-a/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP,
        client_secret: 'any',
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      roles: string[];
    };
    expect(claims.roles).toEqual(['User.Read.All']);
    expect((await send(rbacOnly, token, IN_SCOPE)).status).toBe(202);
    expect(refusal(await send(rbacOnly, token, OUTSIDE))).toEqual(ODATA);
  });

  it('adds an assignment to a tenant-wide role: the role reaches every mailbox, so the scope limits nothing', async () => {
    const both = await start({
      exchangeRbac: [{ clientId: APP, mailboxes: [IN_SCOPE] }],
    });
    const token = both.issueToken({ appid: APP });
    expect((await send(both, token, IN_SCOPE)).status).toBe(202);
    expect((await send(both, token, OUTSIDE)).status).toBe(202);
  });

  it('adds an assignment to a role limited by an application access policy: either one lets the app in', async () => {
    const policy = await start({
      mailboxScope: ['policy@contoso.example'],
      exchangeRbac: [{ clientId: APP, mailboxes: [IN_SCOPE] }],
    });
    const token = policy.issueToken({ appid: APP });
    expect((await send(policy, token, 'policy@contoso.example')).status).toBe(202);
    expect((await send(policy, token, IN_SCOPE)).status).toBe(202);
    expect(refusal(await send(policy, token, OUTSIDE))).toEqual(ODATA);
    // Without any grant the policy does not matter: nothing to restrict.
    const noRole = policy.issueToken({ appid: 'other-app', roles: [] });
    expect(refusal(await send(policy, noRole, 'policy@contoso.example'))).toEqual(DENIED);
  });
});

describe('graph sandbox CLI: permission flags', () => {
  it('parses --roles and repeatable --exchange-rbac grants, and refuses malformed ones', () => {
    const cli = parseSandboxCli([
      '--roles',
      'none',
      '--exchange-rbac',
      `${APP}=${IN_SCOPE},*@fabrikam.example`,
      '--exchange-rbac',
      '*=*:Mail.Send',
    ]);
    expect(cli).toMatchObject({
      help: false,
      options: {
        roles: [],
        exchangeRbac: [
          { clientId: APP, mailboxes: [IN_SCOPE, '*@fabrikam.example'] },
          { clientId: '*', mailboxes: ['*'], roles: ['Application Mail.Send'] },
        ],
      },
    });
    expect(parseSandboxCli(['--roles', 'Mail.Send, User.Read.All'])).toMatchObject({
      options: { roles: ['Mail.Send', 'User.Read.All'] },
    });
    expect(() => parseSandboxCli(['--exchange-rbac', IN_SCOPE])).toThrow(/CLIENT_ID=MAILBOX/);
    expect(() => parseSandboxCli(['--exchange-rbac', `${APP}=not-a-mailbox`])).toThrow(/not a mailbox/);
    expect(() => parseSandboxCli(['--exchange-rbac', `${APP}=${IN_SCOPE}:Mail.Read`])).toThrow(
      /unknown role/,
    );
    expect(parseSandboxCli(['--exchange-rbac', `${APP}=${IN_SCOPE}:Mail.Send,Mail.ReadBasic`])).toMatchObject(
      {
        options: { exchangeRbac: [{ roles: ['Application Mail.Send', 'Application Mail.ReadBasic'] }] },
      },
    );
    expect(parseSandboxCli(['--sent-items-lag', '3000'])).toMatchObject({
      options: { sentItemsLagMs: 3000 },
    });
    expect(() => parseSandboxCli(['--sent-items-lag', '-1'])).toThrow(/--sent-items-lag/);
  });

  it('runs with them: the started sandbox enforces the grants it was given', async () => {
    const root = join(__dirname, '..', '..', '..');
    const dataDir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'dev', 'graph-sandbox', 'main.ts'),
        '--port',
        '0',
        '--cert',
        process.env.BRIDGE_TEST_TLS_CERT ?? '',
        '--key',
        process.env.BRIDGE_TEST_TLS_KEY ?? '',
        '--data-dir',
        dataDir,
        '--roles',
        'User.Read.All',
        '--exchange-rbac',
        `*=${IN_SCOPE}`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: string) => {
          out += d;
          const m = /listening on (https:\/\/\S+)/.exec(out);
          if (m) resolve(m[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`sandbox exited ${code}: ${out}`)));
      });
      const res = await fetch(`${url}/tenant-x/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=any-app&client_secret=s&scope=${encodeURIComponent('https://graph.microsoft.com/.default')}`,
      });
      const { access_token: token } = (await res.json()) as { access_token: string };
      expect((await send({ url } as GraphSandbox, token, IN_SCOPE)).status).toBe(202);
      expect(refusal(await send({ url } as GraphSandbox, token, OUTSIDE))).toEqual(ODATA);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
