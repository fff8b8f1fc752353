import type net from 'node:net';
import type tls from 'node:tls';

import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

import { useFastDataScan } from './data-stream-parser';

type ConnectionOptions = ConstructorParameters<typeof SMTPConnection>[2];

/**
 * smtp-server tuned for allow-listed devices on a LAN. Deliberate departures from the library:
 *
 * 1. No 100 ms pause before the greeting. `SMTPConnection.init()` waits a fixed 100 ms (not configurable in
 *    3.21) to catch spam bots that talk before the 220 ("early talkers"). It buys nothing here — onConnect
 *    checks the client against BRIDGE_ALLOWED_CLIENTS before any greeting — and it caps every connection
 *    near 10 messages/s, because devices open one connection per message (docs/design/toolchain.md §smtp-server: 9.8 vs 550
 *    msg/s on one connection). `init()` below is the library's minus that timer; input that still arrives
 *    before the greeting is answered "421 You talk too soon" by the library as before.
 *
 * 2. Lenient syntax seen from printers (docs/design/smtp-cases.md A1, A3): `MAIL FROM:a@b` without angle brackets is
 *    read as `MAIL FROM:<a@b>`, and `EHLO`/`HELO` without a name as the client's address literal.
 *    (`MAIL FROM: <a@b>` with a space is accepted by the library already.) MAIL/RCPT lines holding control
 *    bytes (a bare CR, NUL) are refused with 501.
 *
 * 3. The DATA scan (dot-unstuffing, end of data) by native search instead of a per-byte loop, and without
 *    copying each chunk: same bytes out, a fraction of the CPU (data-stream-parser.ts).
 *
 * Only public members of the typed library API are used (init, connectionReady, _setListeners, _createParser, send and
 * the handler_ methods are declared in its .d.ts); the subclass is pinned by tests that fail if the library's
 * behaviour changes under it.
 */
class LanSmtpConnection extends SMTPConnection {
  override init(): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  }

  override _createParser(): SMTPStream {
    return useFastDataScan(super._createParser());
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    if (this.#refuseControlChars(command, callback)) return;
    super.handler_MAIL(bracketBareAddress(command), callback);
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    if (this.#refuseControlChars(command, callback)) return;
    super.handler_RCPT(bracketBareAddress(command), callback);
  }

  /**
   * A bare CR (or any control byte) inside MAIL/RCPT (docs/design/smtp-cases.md N1, N3): some hops read it as a line
   * break, so `MAIL FROM:<a@b>\rRCPT TO:<c@d>` could mean two commands to them. The library would parse
   * the rest as parameters; refuse the whole line instead.
   */
  #refuseControlChars(command: Buffer, callback: () => void): boolean {
    if (!CONTROL_BYTES.test(command.toString('latin1'))) return false;
    this.send(501, 'Error: control character in command');
    callback();
    return true;
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    super.handler_EHLO(withHeloName(command, this.remoteAddress), callback);
  }

  override handler_HELO(command: Buffer, callback: () => void): void {
    super.handler_HELO(withHeloName(command, this.remoteAddress), callback);
  }
}

export class LanSmtpServer extends SMTPServer {
  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: ConnectionOptions): void {
    // Same as SMTPServer.connect, with the connection class above.
    const connection = new LanSmtpConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL_BYTES = /[\x00-\x08\x0a-\x1f\x7f]/;
const BARE_ADDRESS = /^((?:MAIL\s+FROM|RCPT\s+TO)\s*:\s*)([^<>\s]+@[^<>\s]+)((?:\s.*)?)$/is;

/** `MAIL FROM:a@b SIZE=1` → `MAIL FROM:<a@b> SIZE=1`; anything else unchanged. Bytes are kept as sent. */
export function bracketBareAddress(command: Buffer): Buffer {
  const line = command.toString('latin1');
  const m = BARE_ADDRESS.exec(line);
  return m ? Buffer.from(`${m[1]}<${m[2]}>${m[3]}`, 'latin1') : command;
}

/** `EHLO` with no argument → `EHLO [192.0.2.7]` (RFC 5321 §4.1.4 address literal of the client). */
export function withHeloName(command: Buffer, remoteAddress: string): Buffer {
  const line = command.toString('latin1').trim();
  if (/^(EHLO|HELO)$/i.test(line)) {
    const literal = remoteAddress.includes(':') ? `[IPv6:${remoteAddress}]` : `[${remoteAddress}]`;
    return Buffer.from(`${line} ${literal}`, 'latin1');
  }
  return command;
}
