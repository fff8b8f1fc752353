import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { hashPassword } from '../../../edge-listener/smtp/password-hash';
import { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';
import { openSession, RawSmtp } from '../helpers/raw-smtp';

/** docs/design/smtp-cases.md §7 (AUTH and TLS quirks Q1–Q6), P5, and the connection policy (allow-list, limits, senders). */
const USER = 'copier@site';
const PASSWORD = 'correct horse battery staple';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let fn: FakeFunction;
/** AUTH required, allowed without TLS (old LAN copiers), 3 failures lock an address. */
let lan: TestEdge;
/** AUTH optional, only after TLS; implicit TLS listener too. */
let tlsEdge: TestEdge;
let legacy: TestEdge;

beforeAll(async () => {
  fn = await FakeFunction.start();
  const users = `${USER}:${await hashPassword(PASSWORD, 10)}`;
  lan = await startTestEdge(fn, {
    BRIDGE_SMTP_USERS: users,
    BRIDGE_SMTP_AUTH_REQUIRED: 'true',
    BRIDGE_SMTP_AUTH_ALLOW_PLAINTEXT: 'true',
    BRIDGE_SMTP_MAX_AUTH_FAILURES_PER_IP: '3',
  });
  tlsEdge = await startTestEdge(fn, { BRIDGE_SMTP_USERS: users, BRIDGE_SMTPS_PORT: '0' });
  legacy = await startTestEdge(fn, { BRIDGE_SMTPS_PORT: '0', BRIDGE_TLS_LEGACY: 'true' });
});
afterAll(async () => {
  for (const e of [lan, tlsEdge, legacy]) await e?.cleanup();
  await fn?.close();
});

describe('AUTH as copiers do it (Q1–Q4, Q6)', () => {
  it('Q1: AUTH LOGIN uses the classic Username:/Password: prompts', async () => {
    const c = await openSession(lan.listener.smtpPort);
    const r1 = await c.command('AUTH LOGIN');
    expect(r1.lines).toEqual(['334 VXNlcm5hbWU6']);
    expect((await c.command(b64(USER))).lines).toEqual(['334 UGFzc3dvcmQ6']);
    const ok = await c.command(b64(PASSWORD));
    expect(ok.code).toBe(235);
    expect(ok.text).toBe('Authentication successful');
    c.destroy();
  });

  it('Q2: AUTH LOGIN with the user name on the same line (Konica Minolta)', async () => {
    const c = await openSession(lan.listener.smtpPort);
    expect((await c.command(`AUTH LOGIN ${b64(USER)}`)).lines).toEqual(['334 UGFzc3dvcmQ6']);
    expect((await c.command(b64(PASSWORD))).code).toBe(235);
    c.destroy();
  });

  it('Q3: only PLAIN and LOGIN are offered; CRAM-MD5 is refused', async () => {
    const c = await RawSmtp.connect(lan.listener.smtpPort);
    await c.reply();
    const ehlo = await c.command('EHLO ricoh');
    expect(ehlo.lines).toContain('250-AUTH PLAIN LOGIN');
    expect((await c.command('AUTH CRAM-MD5')).code).toBe(504);
    c.destroy();
  });

  it('Q4: AUTH PLAIN with and without an initial response; "=" and "*" are handled per RFC 4954', async () => {
    const token = b64(`\0${USER}\0${PASSWORD}`);
    const a = await openSession(lan.listener.smtpPort);
    expect((await a.command(`AUTH PLAIN ${token}`)).code).toBe(235);
    a.destroy();
    const b = await openSession(lan.listener.smtpPort);
    expect((await b.command('AUTH PLAIN')).code).toBe(334);
    expect((await b.command(token)).code).toBe(235);
    b.destroy();
    const c = await openSession(lan.listener.smtpPort);
    expect((await c.command('AUTH PLAIN =')).code).toBe(501);
    expect((await c.command('AUTH PLAIN')).code).toBe(334);
    expect((await c.command('*')).code).toBe(501);
    c.destroy();
  });

  it('P5: a failed AUTH pipelined with MAIL/RCPT/DATA lets none of them through', async () => {
    const c = await openSession(lan.listener.smtpPort);
    c.write(
      `AUTH PLAIN ${b64(`\0${USER}\0wrong`)}\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n`,
    );
    const codes = (await c.replies(4)).map((r) => r.code);
    expect(codes).toEqual([535, 530, 530, 530]);
    c.destroy();
  });

  it('Q6: a wrong password gets a clear 535 and a log line with the user name but never the password; 3 failures lock the address', async () => {
    const c = await openSession(lan.listener.smtpPort);
    const r = await c.command(`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD.slice(0, 10)}`)}`);
    expect(r.code).toBe(535);
    expect(r.text).toContain('SMTP_AUTH_FAILED');
    const r2 = await c.command(`AUTH LOGIN ${b64('nobody')}`);
    expect(r2.code).toBe(334);
    const r3 = await c.command(b64('also wrong'));
    expect(r3.code).toBe(421); // third failure in the window (P5 made the first)
    expect(r3.text).toContain('CLIENT_RATE_LIMITED');
    await c.waitClosed();
    const next = await RawSmtp.connect(lan.listener.smtpPort);
    const refused = await next.reply();
    expect(refused.code).toBe(421);
    const logText = JSON.stringify(lan.lines);
    expect(lan.lines.some((l) => l.event === 'SMTP_AUTH_FAILED' && l.user === USER)).toBe(true);
    expect(logText).not.toContain(PASSWORD.slice(0, 10));
    expect(logText).not.toContain('also wrong');
    expect(logText).not.toContain(b64(PASSWORD.slice(0, 10)));
  });
});

describe('TLS (Q5) and AUTH over TLS', () => {
  it('refuses AUTH before STARTTLS when plaintext AUTH is off, and nodemailer authenticates after STARTTLS', async () => {
    const c = await openSession(tlsEdge.listener.smtpPort);
    expect((await c.command(`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`)).code).toBe(538);
    c.destroy();
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: tlsEdge.listener.smtpPort,
      secure: false,
      requireTLS: true,
      auth: { user: USER, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
    });
    const info = await t.sendMail({
      from: 'scan@example.com',
      to: 'b@example.org',
      subject: 'tls',
      text: 'x',
    });
    expect(fn.byId(idFromReply(info.response))[0]!.envelope.authUser).toBe(USER);
  });

  it('accepts implicit TLS (SMTPS) with TLS 1.2+, and refuses a TLS 1.0-only device unless legacy TLS is switched on', async () => {
    const modern = await RawSmtp.connect(tlsEdge.listener.smtpsPort!, { implicitTls: true });
    expect((await modern.reply()).code).toBe(220);
    modern.destroy();
    const old = { maxVersion: 'TLSv1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const;
    await expect(
      RawSmtp.connect(tlsEdge.listener.smtpsPort!, { implicitTls: true, tlsOptions: old }),
    ).rejects.toThrow();
    await vi.waitFor(
      () => expect(tlsEdge.lines.some((l) => l.event === 'TLS_HANDSHAKE_FAILED')).toBe(true),
      2000,
    );
    const ok = await RawSmtp.connect(legacy.listener.smtpsPort!, { implicitTls: true, tlsOptions: old });
    expect((await ok.reply()).code).toBe(220);
    ok.destroy();
  });

  it('a device without any TLS still sends on the plain port', async () => {
    const c = await openSession(tlsEdge.listener.smtpPort);
    expect((await c.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    c.destroy();
  });
});

describe('connection and sender policy', () => {
  it('refuses clients outside BRIDGE_ALLOWED_CLIENTS with 554 before the greeting', async () => {
    const e = await startTestEdge(fn, { BRIDGE_ALLOWED_CLIENTS: '10.0.0.0/8,192.168.1.7' });
    try {
      const c = await RawSmtp.connect(e.listener.smtpPort);
      const r = await c.reply();
      expect(r.code).toBe(554);
      expect(r.text).toContain('CLIENT_NOT_ALLOWED');
      await c.waitClosed();
    } finally {
      await e.cleanup();
    }
  });

  it('limits connections per address (421) and envelope senders (550)', async () => {
    const e = await startTestEdge(fn, {
      BRIDGE_SMTP_MAX_CONNECTIONS_PER_IP: '2',
      BRIDGE_SMTP_ALLOWED_SENDERS: '*@example.com,<>',
    });
    try {
      const a = await openSession(e.listener.smtpPort);
      const b = await openSession(e.listener.smtpPort);
      const third = await RawSmtp.connect(e.listener.smtpPort);
      expect((await third.reply()).code).toBe(421);
      a.destroy();
      await vi.waitFor(() => expect(e.listener.smtpConnections()).toBeLessThanOrEqual(1), 2000);
      const again = await openSession(e.listener.smtpPort);
      const bad = await again.command('MAIL FROM:<someone@evil.example>');
      expect(bad.code).toBe(550);
      expect(bad.text).toContain('ENVELOPE_SENDER_NOT_ALLOWED');
      expect((await again.command('MAIL FROM:<Scanner@EXAMPLE.com>')).code).toBe(250);
      again.destroy();
      b.destroy();
    } finally {
      await e.cleanup();
    }
  });
});
