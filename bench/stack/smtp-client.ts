import { createConnection, type Socket } from 'node:net';

/**
 * A device on a raw socket: one message on a new connection (EHLO, MAIL, RCPT, DATA, QUIT), no library
 * between the clock and the wire. The body goes out first; `dataEndAtMs` is taken right before the write
 * of the final ".", the moment the device finishes its message — the start of the latency a user feels.
 */

/** Epoch ms with a fraction, the clock the Graph sandbox stamps arrivals with (same process, same clock). */
export const nowMs = () => performance.timeOrigin + performance.now();

export interface SendResult {
  /** The final reply's code (250 accepted; 4xx/5xx refused); 0 when the connection failed before. */
  code: number;
  reply: string;
  /** When the final "." was written (epoch ms); undefined when DATA was never reached. */
  dataEndAtMs?: number;
  /** When the reply to the final "." arrived (epoch ms). */
  replyAtMs?: number;
}

export interface SendOptions {
  port: number;
  host?: string;
  /** Source address (any of 127.0.0.0/8 on loopback): a device of its own, with its own per-address limits. */
  localAddress?: string;
  from: string;
  to: string[];
  /** RFC 5322 message with CRLF line ends (dot-stuffed here). */
  message: Buffer;
  timeoutMs?: number;
}

/** A line-oriented reader of SMTP replies (multi-line "250-…" until "250 …"). */
class Replies {
  #buf = '';
  #lines: string[] = [];
  #waiters: Array<(r: { code: number; text: string }) => void> = [];
  #ready: Array<{ code: number; text: string }> = [];

  push(chunk: string): void {
    this.#buf += chunk;
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).replace(/\r$/, '');
      this.#buf = this.#buf.slice(nl + 1);
      this.#lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: this.#lines.join('\n') };
        this.#lines = [];
        const w = this.#waiters.shift();
        if (w) w(reply);
        else this.#ready.push(reply);
      }
    }
  }

  next(): Promise<{ code: number; text: string }> {
    const r = this.#ready.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Dot-stuffing (RFC 5321 §4.5.2) and a CRLF at the end, so "." on its own line can follow. */
export function dotStuff(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/\r\n\./g, '\r\n..');
  if (text.startsWith('.')) text = `.${text}`;
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}

export async function sendOne(o: SendOptions): Promise<SendResult> {
  const socket: Socket = createConnection({
    port: o.port,
    host: o.host ?? '127.0.0.1',
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  socket.setNoDelay(true);
  const replies = new Replies();
  const failed = new Promise<never>((_, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('connection closed')));
    socket.setTimeout(o.timeoutMs ?? 60_000, () => {
      reject(new Error('timeout'));
      socket.destroy();
    });
  });
  failed.catch(() => undefined);
  socket.setEncoding('latin1').on('data', (c: string) => replies.push(c));
  const reply = () => Promise.race([replies.next(), failed]);
  const write = (data: string | Buffer) =>
    Promise.race([
      new Promise<void>((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve()))),
      failed,
    ]);
  const result: SendResult = { code: 0, reply: '' };
  try {
    const steps: Array<[string | undefined, number]> = [
      [undefined, 220],
      ['EHLO stack-bench.local\r\n', 250],
      [`MAIL FROM:<${o.from}>\r\n`, 250],
      ...o.to.map((t): [string, number] => [`RCPT TO:<${t}>\r\n`, 250]),
      ['DATA\r\n', 354],
    ];
    for (const [command, expected] of steps) {
      if (command) await write(command);
      const r = await reply();
      if (r.code !== expected) {
        result.code = r.code;
        result.reply = r.text;
        return result;
      }
    }
    await write(dotStuff(o.message));
    result.dataEndAtMs = nowMs();
    await write('.\r\n');
    const final = await reply();
    result.replyAtMs = nowMs();
    result.code = final.code;
    result.reply = final.text;
    await write('QUIT\r\n').catch(() => undefined);
    return result;
  } catch (e) {
    result.reply = (e as Error).message;
    return result;
  } finally {
    socket.end();
    socket.destroySoon();
  }
}
