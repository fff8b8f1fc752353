import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import type { Envelope } from '../../core/envelope';
import { frameHead, signedHeaders, WIRE_CONTENT_TYPE, WIRE_HEADERS, WIRE_PATH } from '../../core/wire';
import type { HeldMessage } from '../spool/held-message';
import type { Secret } from '../secret';
import type { FunctionAnswer } from './classify-function-answer';
import { hashFile, sendFile } from './spool-file-body';

export interface FunctionClientOptions {
  /** Origin of the function app, e.g. https://bridge.azurewebsites.net */
  baseUrl: string;
  siteId: string;
  siteSecret: Secret;
  functionKey?: Secret;
  timeoutMs: number;
  maxSockets: number;
}

type FileSource = { path: string; bytes: number };
/** The raw message: in memory (small, fresh: the chunks it arrived in) or the spool file with its recorded size. */
export type MimeSource = { held: HeldMessage } | FileSource;

/** What the forwarder needs of a client: FunctionClient here, or ThreadedFunctionClient on its own thread. */
export interface FunctionPoster {
  /** The function's answer, or a rejection when there was none (its `code` says why: ECONNREFUSED, ETIMEDOUT…). */
  post(envelope: Envelope, mime: MimeSource): Promise<FunctionAnswer>;
  /** Gets ready before the first message (ThreadedFunctionClient starts its thread). */
  start?(): Promise<void>;
  close(): void | Promise<void>;
}

/** Answers are small JSON; anything longer is not from the function and is cut (then unreadable → deferred). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs one spooled message to the function (core/wire.ts): frame head + the raw .eml streamed from disk,
 * HMAC-signed with the site secret. The body is read twice — once for its SHA-256, which the signature
 * covers and which must be sent before the body, once to send it — and never held in memory, so a 150 MB
 * message streams with flat memory. Connections are kept alive between messages.
 */
export class FunctionClient implements FunctionPoster {
  readonly #opts: FunctionClientOptions;
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;

  constructor(opts: FunctionClientOptions) {
    this.#opts = opts;
    this.#url = new URL(WIRE_PATH, opts.baseUrl);
    const secure = this.#url.protocol === 'https:';
    this.#transport = secure ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets };
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /**
   * Resolves with the answer, or rejects when there was none (network, TLS, timeout, abort). The MIME comes
   * from memory when the caller still has it, else it is streamed from the spool file.
   */
  async post(envelope: Envelope, mime: MimeSource, signal?: AbortSignal): Promise<FunctionAnswer> {
    const head = frameHead(envelope);
    // A message in memory is hashed and sent as frame head + its chunks, never joined: no copy of up to 4 MiB.
    const inMemory = 'held' in mime ? mime.held.parts : undefined;
    const mimeBytes = 'held' in mime ? mime.held.length : mime.bytes;
    const bodySha256 = inMemory
      ? inMemory.reduce((h, part) => h.update(part), createHash('sha256').update(head)).digest('hex')
      : await hashBody(head, (mime as FileSource).path, mimeBytes);
    const headers: Record<string, string> = {
      ...signedHeaders({
        siteId: this.#opts.siteId,
        messageId: envelope.messageId,
        bodySha256,
        secret: this.#opts.siteSecret.reveal(),
      }),
      'content-type': WIRE_CONTENT_TYPE,
      'content-length': String(head.length + mimeBytes),
    };
    if (this.#opts.functionKey) headers[WIRE_HEADERS.functionKey] = this.#opts.functionKey.reveal();
    return new Promise<FunctionAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, answer?: FunctionAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(answer!);
      };
      const req = this.#transport.request(
        this.#url,
        { method: 'POST', headers, agent: this.#agent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_ANSWER_BYTES) chunks.push(c);
          });
          res.on('end', () => {
            const answer: FunctionAnswer = { status: res.statusCode ?? 0, body: Buffer.concat(chunks) };
            const retryAfter = res.headers['retry-after'];
            if (typeof retryAfter === 'string') answer.retryAfter = retryAfter;
            finish(undefined, answer);
          });
          res.on('error', (e) => finish(e));
        },
      );
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error('function did not answer in time'), { code: 'ETIMEDOUT' })),
        this.#opts.timeoutMs,
      );
      const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { code: 'ABORTED' }));
      signal?.addEventListener('abort', onAbort);
      // Head and body go out as separate writes; without this, Nagle holds the second one until the
      // function's delayed ACK (~40 ms per message).
      req.setNoDelay(true);
      req.on('error', (e) => finish(e));
      if (inMemory) {
        req.cork(); // headers, frame head and body leave in one write
        req.write(head);
        for (const part of inMemory) req.write(part);
        req.end();
        return;
      }
      // A function that answers early (401, 413) may close before the upload ends; its answer still counts,
      // and if there is none the request's own 'error' reports it.
      sendFile(req, head, (mime as FileSource).path, mimeBytes).catch(() => undefined);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

async function hashBody(head: Buffer, mimePath: string, mimeBytes: number): Promise<string> {
  const hash = createHash('sha256').update(head);
  await hashFile(hash, mimePath, mimeBytes);
  return hash.digest('hex');
}
