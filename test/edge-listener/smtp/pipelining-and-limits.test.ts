import net from 'node:net';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';
import { openSession, RawSmtp } from '../helpers/raw-smtp';

/** docs/design/smtp-cases.md §2 (pipelining P1–P6), §3 (line length and size L1–L5), §8 (connections C1–C3). */
let fn: FakeFunction;
let edge: TestEdge;
/** A second listener with a 64 KiB size limit and a short idle timeout. */
let strict: TestEdge;

beforeAll(async () => {
  fn = await FakeFunction.start();
  edge = await startTestEdge(fn);
  strict = await startTestEdge(fn, {
    BRIDGE_MAX_MESSAGE_BYTES: '64KiB',
    BRIDGE_SMTP_SOCKET_TIMEOUT_MS: '400ms',
  });
});
afterAll(async () => {
  await strict?.cleanup();
  await edge?.cleanup();
  await fn?.close();
});

const tmpFiles = async (e: TestEdge) =>
  (await import('node:fs/promises')).readdir(e.listener.spool.layout.tmp);

describe('pipelining (P1–P6)', () => {
  it('P1: a whole transaction written before the greeting gets every reply, in order', async () => {
    const before = fn.received.length;
    const c = await RawSmtp.connect(edge.listener.smtpPort);
    c.write(
      'EHLO early.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: p1\r\n\r\nearly\r\n.\r\nQUIT\r\n',
    );
    const codes = (await c.replies(7)).map((r) => r.code);
    expect(codes).toEqual([220, 250, 250, 250, 354, 250, 221]);
    expect(fn.received.slice(before).map((r) => r.mime!.toString())).toEqual([
      'Subject: p1\r\n\r\nearly\r\n',
    ]);
  });

  it('P2/P3: message text in the DATA write, then RSET and a second transaction: two sends, envelopes apart', async () => {
    const c = await openSession(edge.listener.smtpPort);
    c.write(
      'MAIL FROM:<one@example.com>\r\nRCPT TO:<r1@example.org>\r\nDATA\r\nSubject: first\r\n\r\n1\r\n.\r\nRSET\r\nMAIL FROM:<two@example.com>\r\nRCPT TO:<r2@example.org>\r\nRCPT TO:<r3@example.org>\r\nDATA\r\nSubject: second\r\n\r\n2\r\n.\r\n',
    );
    const r = await c.replies(10);
    expect(r.map((x) => x.code)).toEqual([250, 250, 354, 250, 250, 250, 250, 250, 354, 250]);
    const first = fn.byId(idFromReply(r[3]!.text))[0]!;
    const second = fn.byId(idFromReply(r[9]!.text))[0]!;
    expect(first.envelope).toMatchObject({ mailFrom: 'one@example.com', rcptTo: ['r1@example.org'] });
    expect(second.envelope).toMatchObject({
      mailFrom: 'two@example.com',
      rcptTo: ['r2@example.org', 'r3@example.org'],
    });
    c.destroy();
  });

  it('P4: commands pipelined after STARTTLS are discarded, not run inside TLS', async () => {
    const c = await openSession(edge.listener.smtpPort);
    c.write('STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n');
    expect((await c.reply()).code).toBe(220);
    await c.startTls();
    expect((await c.command('EHLO after.tls')).code).toBe(250);
    const rcpt = await c.command('RCPT TO:<b@example.org>');
    expect(rcpt.code).toBe(503); // no MAIL happened: the injected one was thrown away
    c.destroy();
  });

  it('P6: RSET and QUIT inside DATA are message text', async () => {
    const c = await openSession(edge.listener.smtpPort);
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const r = await c.command('Subject: p6\r\n\r\nRSET\r\nQUIT\r\n.');
    expect(r.code).toBe(250);
    expect(fn.byId(idFromReply(r.text))[0]!.mime!.toString()).toBe('Subject: p6\r\n\r\nRSET\r\nQUIT\r\n');
    expect((await c.command('NOOP')).code).toBe(250);
    c.destroy();
  });
});

describe('line length and size (L1–L5)', () => {
  it('L1: an over-long command line closes the connection; a 1 MB line without LF does not grow memory', async () => {
    for (const line of [
      `EHLO ${'a'.repeat(10_000)}\r\n`,
      `MAIL FROM:<${'b'.repeat(5_000)}@example.com>\r\n`,
      'x'.repeat(1024 * 1024),
    ]) {
      const c = await openSession(edge.listener.smtpPort);
      c.write(line);
      const r = await c.reply().catch(() => undefined);
      if (r) expect(r.code).toBeGreaterThanOrEqual(421);
      await c.waitClosed();
    }
  });

  it('L2/L3: a 1 MB line in DATA and a 200 KB folded header arrive unchanged', async () => {
    const longLine = 'A'.repeat(1024 * 1024);
    const folded = `Subject: long${'\r\n continued header text'.repeat(9000)}`;
    const c = await openSession(edge.listener.smtpPort);
    for (const msg of [`Subject: l2\r\n\r\n${longLine}`, `${folded}\r\n\r\nbody`]) {
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      const r = await c.command(`${msg}\r\n.`);
      expect(r.code).toBe(250);
      expect(fn.byId(idFromReply(r.text))[0]!.mime!.toString()).toBe(`${msg}\r\n`);
    }
    c.destroy();
  });

  it('L4: SIZE= above the limit gets 552 at MAIL FROM; a larger body gets 552 and nothing is stored', async () => {
    const c = await openSession(strict.listener.smtpPort);
    const ehlo = await c.command('EHLO again');
    expect(ehlo.lines.join('\n')).toContain(`SIZE ${64 * 1024}`);
    expect((await c.command(`MAIL FROM:<a@example.com> SIZE=${64 * 1024 + 1}`)).code).toBe(552);
    await c.command('MAIL FROM:<a@example.com>'); // a device that declares no SIZE
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const before = fn.received.length;
    const r = await c.command(`Subject: big\r\n\r\n${'x'.repeat(70 * 1024)}\r\n.`);
    expect(r.code).toBe(552);
    expect(r.text).toContain('MESSAGE_TOO_LARGE');
    expect(fn.received.length).toBe(before);
    expect(await tmpFiles(strict)).toEqual([]);
    c.destroy();
  });

  it('L5: an empty message is refused with a reason; headers without a body are accepted', async () => {
    const c = await openSession(edge.listener.smtpPort);
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const empty = await c.command('.');
    expect(empty.code).toBe(554);
    expect(empty.text).toContain('MIME_UNPARSEABLE');
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    expect((await c.command('Subject: only headers\r\n.')).code).toBe(250);
    c.destroy();
  });
});

describe('connections (C1–C3)', () => {
  it('C1: an idle client after EHLO and one idle in DATA are disconnected; nothing half-written stays', async () => {
    const idle = await openSession(strict.listener.smtpPort);
    expect((await idle.reply(3000)).code).toBe(421);
    await idle.waitClosed();
    const inData = await openSession(strict.listener.smtpPort);
    await inData.command('MAIL FROM:<a@example.com>');
    await inData.command('RCPT TO:<b@example.org>');
    await inData.command('DATA');
    inData.write('Subject: half\r\n\r\npart');
    await inData.waitClosed(3000);
    await new Promise((r) => setTimeout(r, 50));
    expect(await tmpFiles(strict)).toEqual([]);
  });

  it('C2: a client that closes right after CRLF.CRLF still gets its message forwarded exactly once', async () => {
    const before = fn.received.length;
    const socket = net.connect(edge.listener.smtpPort, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.end(
      'EHLO c2\r\nMAIL FROM:<c2@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: c2\r\n\r\nbye\r\n.\r\n',
    );
    socket.on('error', () => undefined);
    socket.resume();
    await fn.waitFor(() => fn.received.slice(before).some((r) => r.envelope.mailFrom === 'c2@example.com'));
    await new Promise((r) => setTimeout(r, 200));
    expect(fn.received.slice(before).filter((r) => r.envelope.mailFrom === 'c2@example.com')).toHaveLength(1);
  });

  it('C3: close without QUIT, QUIT without CRLF and half-open sockets leave no connection behind', async () => {
    const a = await openSession(edge.listener.smtpPort);
    a.destroy();
    const b = await openSession(edge.listener.smtpPort);
    b.write('QUIT');
    b.end();
    const c = await openSession(edge.listener.smtpPort);
    c.end(); // half-closed from our side
    await vi.waitFor(() => expect(edge.listener.smtpConnections()).toBe(0), 5000);
  });
});
