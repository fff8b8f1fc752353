import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, type TestEdge, useTestEdge } from '../helpers/edge-harness';
import { dataBlob, openSession, type RawSmtp } from '../helpers/raw-smtp';

/** docs/design/smtp-cases.md §4 (NUL and raw bytes N1–N4), §5 (8BITMIME/SMTPUTF8 E1–E6), §6 (addresses and greetings A1–A5). */
let fn: FakeFunction;
let edge: TestEdge;
useTestEdge((started) => ({ fn, edge } = started));

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', name));

/** Runs MAIL/RCPT/DATA with raw command bytes; returns every reply code and the forwarded message, if any. */
async function send(c: RawSmtp, mail: string, rcpts: string[], message: Buffer | string) {
  const codes = [(await c.command(mail)).code];
  for (const r of rcpts) codes.push((await c.command(r)).code);
  const data = await c.command('DATA');
  codes.push(data.code);
  if (data.code !== 354) return { codes };
  c.write(dataBlob(message));
  const final = await c.reply();
  codes.push(final.code);
  return { codes, final, got: final.code === 250 ? fn.byId(idFromReply(final.text))[0] : undefined };
}

describe('raw bytes (N1–N4)', () => {
  it('N1: NUL inside MAIL FROM or after RCPT TO gets 501', async () => {
    const c = await openSession(edge.listener.smtpPort);
    expect((await c.command('MAIL FROM:<a\0@example.com>')).code).toBe(501);
    expect((await c.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    expect((await c.command('RCPT TO:<x@example.org>\0junk')).code).toBe(501);
    c.destroy();
  });

  it('N2: NUL bytes in DATA are kept exactly (UTF-16 part)', async () => {
    const c = await openSession(edge.listener.smtpPort);
    const msg = fixture('utf16-nul.eml');
    const { got } = await send(c, 'MAIL FROM:<a@example.com>', ['RCPT TO:<b@example.org>'], msg);
    expect(got!.mime!.equals(Buffer.concat([msg, Buffer.from('\r\n')]))).toBe(true);
    c.destroy();
  });

  it('N3: a bare CR inside a command is refused instead of read as a line break', async () => {
    const c = await openSession(edge.listener.smtpPort);
    expect((await c.command('MAIL FROM:<a@example.com>\rRCPT TO:<c@example.org>')).code).toBe(501);
    expect((await c.command('DATA')).code).toBe(503);
    c.destroy();
  });

  it('N4/E4: an 8-bit address without SMTPUTF8 gets 553; with SMTPUTF8 it is accepted', async () => {
    const c = await openSession(edge.listener.smtpPort);
    const no = await c.command(Buffer.from('MAIL FROM:<jörg@example.com>', 'utf8').toString('latin1'));
    expect(no.code).toBe(553);
    expect(no.text).toContain('SMTPUTF8_REQUIRED');
    expect((await c.command('MAIL FROM:<j\xf6rg@example.com>')).code).toBe(553); // Latin-1 byte, not UTF-8 at all
    const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    const { codes, got } = await send(
      c,
      utf8('MAIL FROM:<jörg@exämple.de> SMTPUTF8'),
      [utf8('RCPT TO:<müller@example.org>')],
      'Subject: eai\r\n\r\nx',
    );
    expect(codes).toEqual([250, 250, 354, 250]);
    expect(got!.envelope.mailFrom).toBe('jörg@xn--exmple-cua.de');
    expect(got!.envelope.rcptTo).toEqual(['müller@example.org']);
    c.destroy();
  });
});

describe('8BITMIME, BINARYMIME, DSN parameters (E1–E6)', () => {
  it('E1/E2: 8-bit bodies with and without BODY=8BITMIME arrive byte for byte', async () => {
    const c = await openSession(edge.listener.smtpPort);
    for (const [mail, file] of [
      ['MAIL FROM:<a@example.com> BODY=8BITMIME', '8bitmime.eml'],
      ['MAIL FROM:<a@example.com>', 'subj-8bit-cp1252.eml'],
    ] as const) {
      const msg = fixture(file);
      const { got } = await send(c, mail, ['RCPT TO:<b@example.org>'], msg);
      expect(got!.mime!.equals(Buffer.concat([msg, Buffer.from('\r\n')]))).toBe(true);
    }
    c.destroy();
  });

  it('E3: BODY=BINARYMIME is refused (no CHUNKING)', async () => {
    const c = await openSession(edge.listener.smtpPort);
    expect((await c.command('MAIL FROM:<a@example.com> BODY=BINARYMIME')).code).toBe(501);
    c.destroy();
  });

  it('E5: an A-label (xn--) domain passes through unchanged', async () => {
    const c = await openSession(edge.listener.smtpPort);
    const { got } = await send(
      c,
      'MAIL FROM:<a@example.com>',
      ['RCPT TO:<user@xn--exmple-cua.de>'],
      'Subject: idn\r\n\r\nx',
    );
    expect(got!.envelope.rcptTo).toEqual(['user@xn--exmple-cua.de']);
    c.destroy();
  });

  it('E6: DSN and AUTH parameters printers send do not fail the transaction', async () => {
    const c = await openSession(edge.listener.smtpPort);
    const { codes } = await send(
      c,
      'MAIL FROM:<a@example.com> RET=HDRS ENVID=scan123 AUTH=<>',
      ['RCPT TO:<b@example.org> NOTIFY=NEVER ORCPT=rfc822;b@example.org'],
      'Subject: dsn\r\n\r\nx',
    );
    expect(codes).toEqual([250, 250, 354, 250]);
    c.destroy();
  });
});

describe('addresses and greetings from devices (A1–A5)', () => {
  it('A1: "MAIL FROM: <a@b>", "MAIL FROM:a@b" and lower case are accepted', async () => {
    const c = await openSession(edge.listener.smtpPort);
    for (const mail of [
      'MAIL FROM: <scan@example.com>',
      'MAIL FROM:scan@example.com',
      'mail from:<scan@example.com>',
    ]) {
      const { codes, got } = await send(c, mail, ['rcpt to: b@example.org'], 'Subject: a1\r\n\r\nx');
      expect(codes).toEqual([250, 250, 354, 250]);
      expect(got!.envelope).toMatchObject({ mailFrom: 'scan@example.com', rcptTo: ['b@example.org'] });
    }
    c.destroy();
  });

  it('A2: null sender, source routes and +tags are handled; a quoted local part with a space is refused (501)', async () => {
    const c = await openSession(edge.listener.smtpPort);
    const nullSender = await send(
      c,
      'MAIL FROM:<>',
      ['RCPT TO:<@relay.example:user+tag@example.org>'],
      'Subject: a2\r\n\r\nx',
    );
    expect(nullSender.got!.envelope).toMatchObject({ mailFrom: '', rcptTo: ['user+tag@example.org'] });
    expect((await c.command('MAIL FROM:<"scan to"@example.com>')).code).toBe(501);
    c.destroy();
  });

  it('A3: HELO-only clients, EHLO without a name and device names work', async () => {
    for (const greeting of ['HELO XC-B8C463', 'EHLO', 'EHLO XC-B8C463']) {
      const c = await openSession(edge.listener.smtpPort, greeting);
      const { codes, got } = await send(
        c,
        'MAIL FROM:<a@example.com>',
        ['RCPT TO:<b@example.org>'],
        'Subject: a3\r\n\r\nx',
      );
      expect(codes).toEqual([250, 250, 354, 250]);
      expect(got!.envelope.helo).toBe(greeting === 'EHLO' ? '[127.0.0.1]' : 'xc-b8c463');
      c.destroy();
    }
  });

  it('A4: 500 recipients are taken, the 501st gets 452; duplicates count once; bad ones get their own reply', async () => {
    const c = await openSession(edge.listener.smtpPort);
    expect((await c.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    const rcpts = Array.from({ length: 501 }, (_, i) => `RCPT TO:<user${i}@example.org>\r\n`);
    c.write(`RCPT TO:<bad address>\r\nRCPT TO:<user0@example.org>\r\n${rcpts.join('')}`);
    const replies = await c.replies(503);
    expect(replies[0]!.code).toBe(501);
    expect(replies.slice(1, 502).every((r) => r.code === 250)).toBe(true); // the duplicate user0 is not counted twice
    expect(replies[502]!.code).toBe(452);
    expect((await c.command('DATA')).code).toBe(354);
    const r = await c.command('Subject: many\r\n\r\nx\r\n.');
    expect(fn.byId(idFromReply(r.text))[0]!.envelope.rcptTo).toHaveLength(500);
    c.destroy();
  });
});
