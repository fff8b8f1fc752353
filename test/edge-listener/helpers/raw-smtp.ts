import net from 'node:net';
import tls from 'node:tls';

import { vi } from 'vitest';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

/**
 * A bare SMTP client on a raw socket, for what real clients never send: pipelined blobs, bare CR/LF,
 * smuggling probes, over-long lines, NUL bytes. Replies are parsed as they arrive (multi-line aware).
 */
export class RawSmtp {
  #socket: net.Socket;
  #buffer = '';
  #replies: Reply[] = [];
  #waiters: Array<() => void> = [];
  #partial: string[] = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static connect(
    port: number,
    opts: { implicitTls?: boolean; tlsOptions?: tls.ConnectionOptions } = {},
  ): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const socket = opts.implicitTls
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts.tlsOptions }, () =>
            resolve(new RawSmtp(socket)),
          )
        : net.connect(port, '127.0.0.1', () => resolve(new RawSmtp(socket)));
      socket.once('error', reject);
    });
  }

  #attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => this.#onData(d.toString('latin1')));
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #onData(text: string): void {
    this.#buffer += text;
    let i: number;
    while ((i = this.#buffer.indexOf('\r\n')) >= 0) {
      const line = this.#buffer.slice(0, i);
      this.#buffer = this.#buffer.slice(i + 2);
      this.#partial.push(line);
      if (line[3] !== '-') {
        const lines = this.#partial;
        this.#partial = [];
        this.#replies.push({
          code: Number(line.slice(0, 3)),
          lines,
          text: lines.map((l) => l.slice(4)).join('\n'),
        });
      }
    }
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Next reply, or throws after `timeoutMs` / when the server closed without one. */
  async reply(timeoutMs = 5000): Promise<Reply> {
    const end = Date.now() + timeoutMs;
    while (this.#replies.length === 0) {
      if (this.closed) throw new Error('connection closed before a reply');
      const left = end - Date.now();
      if (left <= 0) throw new Error('no reply in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.#replies.shift()!;
  }

  /** Collects `n` replies. */
  async replies(n: number, timeoutMs = 5000): Promise<Reply[]> {
    const out: Reply[] = [];
    for (let i = 0; i < n; i++) out.push(await this.reply(timeoutMs));
    return out;
  }

  write(data: string | Buffer): void {
    this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends a command line and returns its reply. */
  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Upgrades with STARTTLS (after the 220 reply to STARTTLS was read). */
  async startTls(opts: tls.ConnectionOptions = {}): Promise<void> {
    this.#socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.#socket, rejectUnauthorized: false, ...opts });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
  }

  /** Waits until the server closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await vi.waitFor(
      () => {
        if (!this.closed) throw new Error('connection still open');
      },
      { timeout: timeoutMs, interval: 10 },
    );
  }

  destroy(): void {
    this.#socket.destroy();
  }

  end(): void {
    this.#socket.end();
  }
}

/** Connects, reads the greeting and says EHLO. */
export async function openSession(port: number, ehlo = 'EHLO test.example'): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  const greeting = await c.reply();
  if (greeting.code !== 220) throw new Error(`greeting was ${greeting.code}`);
  const r = await c.command(ehlo);
  if (r.code !== 250) throw new Error(`EHLO got ${r.code} ${r.text}`);
  return c;
}

/** Dot-stuffs message bytes for DATA (a '.' after any line break gets another one) and adds the terminator. */
export function dataBlob(message: Buffer | string): Buffer {
  const text = (typeof message === 'string' ? Buffer.from(message, 'latin1') : message).toString('latin1');
  const stuffed = text.replace(/(^|\n)\./g, '$1..');
  return Buffer.from(`${stuffed}\r\n.\r\n`, 'latin1');
}
