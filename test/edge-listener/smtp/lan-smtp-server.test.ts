import net, { type AddressInfo } from 'node:net';

import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { bracketBareAddress, LanSmtpServer, withHeloName } from '../../../edge-listener/smtp/lan-smtp-server';

/** Resolves with the first bytes the server sends, or undefined if none arrive within `realMs` (wall clock). */
async function firstBytes(port: number, realMs: number): Promise<string | undefined> {
  const socket = net.connect(port, '127.0.0.1');
  let got: string | undefined;
  socket.on('data', (d) => (got ??= d.toString()));
  const end = performance.now() + realMs;
  // setImmediate is not faked, so this loop keeps real time while setTimeout is frozen.
  while (got === undefined && performance.now() < end) await new Promise((r) => setImmediate(r));
  socket.destroy();
  return got;
}

async function listen(server: SMTPServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.server.address() as AddressInfo).port;
}

const options: SMTPServerOptions = {
  disableReverseLookup: true,
  logger: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
};

describe('greeting without the early-talker delay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the 220 greeting without waiting on any timer', async () => {
    const server = new LanSmtpServer({ ...options });
    const port = await listen(server);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      expect(await firstBytes(port, 2000)).toMatch(/^220 /);
    } finally {
      vi.useRealTimers();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('stock smtp-server still holds its greeting for a 100 ms timer (why the subclass exists)', async () => {
    const server = new SMTPServer({ ...options });
    const port = await listen(server);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const socket = net.connect(port, '127.0.0.1');
    let got: string | undefined;
    socket.on('data', (d) => (got ??= d.toString()));
    try {
      const end = performance.now() + 300;
      while (performance.now() < end) await new Promise((r) => setImmediate(r));
      expect(got).toBeUndefined();
      vi.advanceTimersByTime(100);
      const end2 = performance.now() + 2000;
      while (got === undefined && performance.now() < end2) await new Promise((r) => setImmediate(r));
      expect(got).toMatch(/^220 /);
    } finally {
      socket.destroy();
      vi.useRealTimers();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('still refuses input sent before the greeting when onConnect is slow ("421 You talk too soon")', async () => {
    let release: () => void = () => undefined;
    const server = new LanSmtpServer({
      ...options,
      onConnect: (_s, cb) => {
        release = () => cb();
      },
    });
    const port = await listen(server);
    const socket = net.connect(port, '127.0.0.1');
    const chunks: string[] = [];
    socket.on('data', (d) => chunks.push(d.toString()));
    const closed = new Promise((r) => socket.once('close', r));
    await new Promise((r) => socket.once('connect', r));
    socket.write('EHLO early.example\r\n');
    await new Promise((r) => setTimeout(r, 100));
    release();
    await closed;
    expect(chunks.join('')).toMatch(/421 .*You talk too soon/);
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe('lenient command syntax for printers', () => {
  it('brackets a bare MAIL FROM / RCPT TO address and keeps parameters and bytes', () => {
    expect(bracketBareAddress(Buffer.from('MAIL FROM:a@b.example SIZE=10')).toString()).toBe(
      'MAIL FROM:<a@b.example> SIZE=10',
    );
    expect(bracketBareAddress(Buffer.from('rcpt to: x@y.example')).toString()).toBe('rcpt to: <x@y.example>');
    expect(bracketBareAddress(Buffer.from('MAIL FROM: <a@b>')).toString()).toBe('MAIL FROM: <a@b>');
    expect(bracketBareAddress(Buffer.from('MAIL FROM:<>')).toString()).toBe('MAIL FROM:<>');
    const latin = Buffer.from('MAIL FROM:j\xf6rg@b.example', 'latin1');
    expect(bracketBareAddress(latin).equals(Buffer.from('MAIL FROM:<j\xf6rg@b.example>', 'latin1'))).toBe(
      true,
    );
  });

  it('gives EHLO/HELO without a name the client address literal', () => {
    expect(withHeloName(Buffer.from('EHLO'), '192.0.2.7').toString()).toBe('EHLO [192.0.2.7]');
    expect(withHeloName(Buffer.from('helo '), '::1').toString()).toBe('helo [IPv6:::1]');
    expect(withHeloName(Buffer.from('EHLO XC-B8C463'), '192.0.2.7').toString()).toBe('EHLO XC-B8C463');
  });
});
