import type { X509Certificate } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * A minimal SMTP client for `doctor`: enough to see what a device sees (greeting, EHLO keywords, the
 * certificate served by STARTTLS or implicit TLS) and to submit one test message. The certificate is not
 * verified here on purpose — devices rarely do, and the doctor reports its dates and names instead.
 */
export interface SmtpReply {
  code: number;
  /** Text of every line without the code, e.g. ['smtp.example', 'SIZE 36700160', 'STARTTLS']. */
  lines: string[];
}

export interface SmtpTarget {
  host: string;
  port: number;
  /** SMTPS: TLS from the first byte. */
  implicitTls?: boolean;
  timeoutMs: number;
}

export class SmtpError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class SmtpSession {
  #socket: Socket | TLSSocket;
  #buffer = '';
  #lines: string[] = [];
  #replies: SmtpReply[] = [];
  #waiting: Array<{ resolve: (r: SmtpReply) => void; reject: (e: Error) => void }> = [];
  #failure: Error | undefined;
  readonly #timeoutMs: number;
  greeting: SmtpReply = { code: 0, lines: [] };

  private constructor(socket: Socket | TLSSocket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#attach(socket);
  }

  /** Connects and reads the greeting (any code: a 554 greeting still proves something listens). */
  static async open(target: SmtpTarget): Promise<SmtpSession> {
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const onError = (e: Error) => reject(new SmtpError(e.message, (e as NodeJS.ErrnoException).code));
      const s = target.implicitTls
        ? tlsConnect(
            { host: target.host, port: target.port, rejectUnauthorized: false, ...serverName(target.host) },
            () => resolve(s),
          )
        : new Socket().connect(target.port, target.host, () => resolve(s));
      s.setTimeout(target.timeoutMs, () =>
        s.destroy(new SmtpError(`no answer within ${target.timeoutMs} ms`, 'ETIMEDOUT')),
      );
      s.once('error', onError);
    });
    const session = new SmtpSession(socket, target.timeoutMs);
    session.greeting = await session.#next();
    return session;
  }

  get secure(): boolean {
    return 'encrypted' in this.#socket && this.#socket.encrypted === true;
  }

  peerCertificate(): X509Certificate | undefined {
    return 'getPeerX509Certificate' in this.#socket ? this.#socket.getPeerX509Certificate() : undefined;
  }

  async command(line: string): Promise<SmtpReply> {
    this.#socket.write(`${line}\r\n`);
    return this.#next();
  }

  /** STARTTLS after EHLO; resolves once the handshake is done (the caller must EHLO again). */
  async startTls(host: string): Promise<SmtpReply> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) return reply;
    const plain = this.#socket;
    plain.removeAllListeners('data');
    this.#socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain as Socket, rejectUnauthorized: false, ...serverName(host) }, () =>
        resolve(s),
      );
      s.once('error', (e) =>
        reject(new SmtpError(`TLS handshake failed: ${e.message}`, (e as NodeJS.ErrnoException).code)),
      );
    });
    this.#attach(this.#socket);
    return reply;
  }

  /** DATA with dot-stuffing; resolves with the final reply (250 … queued as <id>). */
  async data(message: string): Promise<SmtpReply> {
    const go = await this.command('DATA');
    if (go.code !== 354) return go;
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.#socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    return this.#next();
  }

  async close(): Promise<void> {
    if (!this.#failure && !this.#socket.destroyed) await this.command('QUIT').catch(() => undefined);
    this.#socket.destroy();
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.setTimeout(this.#timeoutMs, () =>
      socket.destroy(new SmtpError(`no answer within ${this.#timeoutMs} ms`, 'ETIMEDOUT')),
    );
    socket.on('data', (chunk: Buffer) => this.#read(chunk.toString('latin1')));
    socket.on('error', (e) =>
      this.#fail(e instanceof SmtpError ? e : new SmtpError(e.message, (e as NodeJS.ErrnoException).code)),
    );
    socket.on('close', () => this.#fail(new SmtpError('connection closed by the server', 'ECONNRESET')));
  }

  #read(text: string): void {
    this.#buffer += text;
    for (let eol = this.#buffer.indexOf('\n'); eol >= 0; eol = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, eol).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(eol + 1);
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!m) continue;
      this.#lines.push(m[3] ?? '');
      if (m[2] === '-') continue;
      const reply = { code: Number(m[1]), lines: this.#lines };
      this.#lines = [];
      const waiter = this.#waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.#replies.push(reply);
    }
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    for (const w of this.#waiting.splice(0)) w.reject(this.#failure);
  }

  #next(): Promise<SmtpReply> {
    const ready = this.#replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }
}

/** SNI only for names: Node refuses an IP address as servername. */
function serverName(host: string): { servername?: string } {
  return isIP(host) === 0 ? { servername: host } : {};
}

/** Where to reach a listener bound to `host` from this machine (a wildcard bind is reachable on loopback). */
export function localAddressOf(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}
