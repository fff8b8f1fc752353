import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadEdgeConfig } from '../../../edge-listener/config';
import { hashPassword } from '../../../edge-listener/smtp/password-hash';
import { edgeEnv } from '../../helpers/edge-env';
import { startTestEdge, type TestEdge } from '../helpers/edge-harness';
import { FakeFunction } from '../../helpers/fake-function';

/**
 * Issue 10's impersonation: with a site policy of `*@contoso.com`, an allowed device sends
 * `MAIL FROM:<scanner@contoso.com>` with `From: ceo@contoso.com`, and Graph would send it as the CEO. A device
 * bound to its senders (BRIDGE_SENDER_BINDINGS) is refused at end of DATA with the reason on its panel, nothing
 * reaches the function; the binding also travels in the signed envelope for the function's own check.
 */
let fn: FakeFunction;
let byAddress: TestEdge;
let byUser: TestEdge;
let unbound: TestEdge;
let users = '';

beforeAll(async () => {
  fn = await FakeFunction.start();
  users = `mfp-3f:${await hashPassword('mfp-password-1', 10)},erp:${await hashPassword('erp-password-1', 10)}`;
  byAddress = await startTestEdge(fn, { BRIDGE_SENDER_BINDINGS: 'client:127.0.0.0/8=scanner@contoso.com' });
  byUser = await startTestEdge(fn, {
    BRIDGE_SMTP_USERS: users,
    BRIDGE_SMTP_AUTH_ALLOW_PLAINTEXT: 'true',
    BRIDGE_SENDER_BINDINGS:
      'user:mfp-3f=scanner@contoso.com,user:erp=billing@contoso.com|*@invoices.contoso.com,client:127.0.0.1=nobody@contoso.com',
  });
  unbound = await startTestEdge(fn);
});
afterAll(async () => {
  await Promise.all([byAddress, byUser, unbound].map((e) => e?.cleanup()));
  await fn?.close();
});

async function send(
  edge: TestEdge,
  mail: {
    from: string;
    mailFrom?: string;
    auth?: { user: string; pass: string };
    headers?: Record<string, string>;
  },
): Promise<{ code: number; text: string }> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: edge.listener.smtpPort,
    secure: false,
    ignoreTLS: true,
    ...(mail.auth ? { auth: mail.auth } : {}),
  });
  try {
    const info = await transport.sendMail({
      from: mail.from,
      to: 'partner@fabrikam.example',
      subject: 'Invoice',
      text: 'Please pay.',
      envelope: { from: mail.mailFrom ?? 'scanner@contoso.com', to: ['partner@fabrikam.example'] },
      ...(mail.headers ? { headers: mail.headers } : {}),
    });
    return { code: 250, text: String(info.response) };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string; message: string };
    return { code: err.responseCode ?? 0, text: err.response ?? err.message };
  } finally {
    transport.close();
  }
}

describe('per-device sender bindings', () => {
  it('refuses a device bound by address that claims another mailbox in From (550 5.7.1, reason on the panel)', async () => {
    const before = fn.received.length;
    const r = await send(byAddress, { from: 'The CEO <ceo@contoso.com>' });
    expect(r.code).toBe(550);
    expect(r.text).toMatch(
      /5\.7\.1 DEVICE_SENDER_NOT_BOUND .*127\.0\.0\.1 may send as scanner@contoso\.com, not ceo@contoso\.com/,
    );
    expect(fn.received.length).toBe(before);
    expect(byAddress.lines).toContainEqual(
      expect.objectContaining({ event: 'SMTP_MESSAGE_REFUSED', code: 'DEVICE_SENDER_NOT_BOUND' }),
    );
  });

  it('refuses tricks with the From header: a second address, a second From, an address as display name', async () => {
    for (const from of ['scanner@contoso.com, ceo@contoso.com', '"ceo@contoso.com" <scanner@contoso.com>']) {
      expect((await send(byAddress, { from })).code, from).toBe(550);
    }
    // A second From header: which one a parser picks is its own business, so every one must be allowed.
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: byAddress.listener.smtpPort,
      ignoreTLS: true,
    });
    try {
      const twice = await transport
        .sendMail({
          envelope: { from: 'scanner@contoso.com', to: ['a@fabrikam.example'] },
          raw: 'From: scanner@contoso.com\r\nFrom: ceo@contoso.com\r\nSubject: x\r\n\r\nx\r\n',
        })
        .catch((e: { responseCode?: number }) => e);
      expect((twice as { responseCode?: number }).responseCode).toBe(550);
    } finally {
      transport.close();
    }
  });

  it('lets the bound sender through and puts the binding in the signed envelope for the function', async () => {
    const r = await send(byAddress, { from: 'Scanner <Scanner@CONTOSO.com>' });
    expect(r.code, r.text).toBe(250);
    const id = / as (\S+)$/.exec(r.text.trim())![1]!;
    await fn.waitFor(() => fn.byId(id).length > 0);
    expect(fn.byId(id)[0]!.envelope.senderBinding).toEqual(['scanner@contoso.com']);
  });

  it('takes MAIL FROM as the claim when the message has no From', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: byAddress.listener.smtpPort,
      ignoreTLS: true,
    });
    try {
      const refused = await transport
        .sendMail({
          envelope: { from: 'ceo@contoso.com', to: ['a@fabrikam.example'] },
          raw: 'Subject: no from\r\n\r\nx\r\n',
        })
        .catch((e: { responseCode?: number }) => e);
      expect((refused as { responseCode?: number }).responseCode).toBe(550);
      const ok = await transport.sendMail({
        envelope: { from: 'scanner@contoso.com', to: ['a@fabrikam.example'] },
        raw: 'Subject: no from\r\n\r\nx\r\n',
      });
      expect(String(ok.response)).toMatch(/^250/);
    } finally {
      transport.close();
    }
  });

  it('binds an AUTH user to its own senders, before any binding of its address', async () => {
    const mfp = { user: 'mfp-3f', pass: 'mfp-password-1' };
    expect((await send(byUser, { from: 'ceo@contoso.com', auth: mfp })).code).toBe(550);
    expect((await send(byUser, { from: 'scanner@contoso.com', auth: mfp })).code).toBe(250);
    const erp = { user: 'erp', pass: 'erp-password-1' };
    expect(
      (await send(byUser, { from: 'billing@contoso.com', mailFrom: 'billing@contoso.com', auth: erp })).code,
    ).toBe(250);
    expect(
      (
        await send(byUser, {
          from: 'q4@invoices.contoso.com',
          mailFrom: 'q4@invoices.contoso.com',
          auth: erp,
        })
      ).code,
    ).toBe(250);
    expect((await send(byUser, { from: 'scanner@contoso.com', auth: erp })).code).toBe(550);
    // Not authenticated: the address binding applies.
    const anon = await send(byUser, { from: 'scanner@contoso.com' });
    expect(anon.code).toBe(550);
    expect(anon.text).toMatch(/may send as nobody@contoso\.com/);
  });

  it('leaves an unbound device alone (the site policy alone decides: docs/security-model.md)', async () => {
    expect((await send(unbound, { from: 'ceo@contoso.com' })).code).toBe(250);
  });

  it('refuses bindings that name unknown users, bad ranges or bad patterns when the config loads', () => {
    const r = loadEdgeConfig({
      env: edgeEnv(fn, unbound.dataDir, {
        BRIDGE_SMTP_USERS: users,
        BRIDGE_SENDER_BINDINGS:
          'user:ghost=a@contoso.com,client:10.0.0.0/33=a@contoso.com,client:10.0.0.1=not a pattern,user:erp=<>,mfp=x@y.z',
      }),
    });
    const issues = 'issues' in r ? r.issues.join('\n') : '';
    expect(issues).toContain('"10.0.0.0/33": prefix must be 0–32');
    expect(issues).toContain('"not a pattern" is not a sender pattern');
    expect(issues).toContain('<> names no From address');
    expect(issues).toContain('"mfp=x@y.z" must be user:<name>=<pattern>');
    const ghost = loadEdgeConfig({
      env: edgeEnv(fn, unbound.dataDir, {
        BRIDGE_SMTP_USERS: users,
        BRIDGE_SENDER_BINDINGS: 'user:ghost=a@contoso.com',
      }),
    });
    expect('issues' in ghost && ghost.issues.join('\n')).toContain(
      '"ghost" is not a user in BRIDGE_SMTP_USERS',
    );
  });
});
