import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { Envelope } from '../../core/envelope';
import type { Logger } from '../../core/log';
import type { FunctionAnswer } from './classify-function-answer';
import type { FunctionClientOptions, FunctionPoster, MimeSource } from './function-client';
import {
  FORWARD_WORKER_ROLE,
  type ForwardReply,
  type ForwardRequest,
  type ForwardWorkerData,
} from './forward-worker';

interface Pending {
  resolve(answer: FunctionAnswer): void;
  reject(err: Error): void;
}

/**
 * A FunctionClient whose work runs on a worker thread (forward-worker.ts): the SMTP intake keeps its thread
 * for SMTP and the spool, and the hashing, signing and HTTP of forwarding use the machine's other core. Same
 * contract as FunctionClient.post: an answer, or a rejection carrying the network error's code. A message in
 * memory is copied once into memory that then moves to the thread (transferred, not copied again; shared
 * memory would save the copy, but V8 frees it only after a full GC in both threads, and a test run grew to
 * 1 GB); a large message is read from its spool file by the thread itself.
 *
 * If the thread dies, the POSTs it had in flight reject (FORWARD_WORKER_STOPPED: the forwarder defers them
 * and the spool retries; the function's idempotency covers any that did arrive), and the next POST starts a
 * new thread.
 */
export class ThreadedFunctionClient implements FunctionPoster {
  readonly #data: ForwardWorkerData;
  readonly #logger: Logger;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  /** Settles when the running thread has loaded its code (or failed to). */
  #ready: Promise<void> | undefined;
  #seq = 0;
  #closed = false;

  constructor(opts: FunctionClientOptions, logger: Logger) {
    this.#data = {
      role: FORWARD_WORKER_ROLE,
      baseUrl: opts.baseUrl,
      siteId: opts.siteId,
      siteSecret: opts.siteSecret.reveal(),
      timeoutMs: opts.timeoutMs,
      maxSockets: opts.maxSockets,
    };
    if (opts.functionKey) this.#data.functionKey = opts.functionKey.reveal();
    this.#logger = logger;
  }

  /**
   * Starts the thread and waits until it serves, so the first message does not wait for the thread to load
   * its code (hundreds of milliseconds on a small machine). Rejects if it cannot start.
   */
  start(): Promise<void> {
    if (!this.#worker) this.#worker = this.#start();
    return this.#ready!;
  }

  post(envelope: Envelope, mime: MimeSource): Promise<FunctionAnswer> {
    if (this.#closed) return Promise.reject(errorWithCode('forward client closed', 'ECLOSED'));
    const worker = (this.#worker ??= this.#start());
    const seq = ++this.#seq;
    return new Promise<FunctionAnswer>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      if ('held' in mime) {
        // The spool keeps its chunks; the thread gets the message joined into memory that moves to it:
        // memory of its own (never Buffer's shared pool, which must not move) and not zero-filled first,
        // since every byte is written below (docs/design/edge-ingest.md).
        const bytes = new Uint8Array(Buffer.allocUnsafeSlow(mime.held.length).buffer, 0, mime.held.length);
        let offset = 0;
        for (const part of mime.held.parts) {
          bytes.set(part, offset);
          offset += part.length;
        }
        const request: ForwardRequest = { seq, envelope, mime: { bytes } };
        worker.postMessage(request, [bytes.buffer]);
      } else {
        const request: ForwardRequest = { seq, envelope, mime: { path: mime.path, bytes: mime.bytes } };
        worker.postMessage(request);
      }
    });
  }

  /** Ends the thread; call after the forwarder has drained (POSTs still in flight then reject). */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
    this.#failPending('forward client closed', 'ECLOSED');
  }

  /** The thread now running, if any (tests end it to play a crash). */
  get thread(): Worker | undefined {
    return this.#worker;
  }

  /** POSTs waiting for the thread's answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  #start(): Worker {
    const entry = workerEntry();
    const worker = new Worker(entry.filename, {
      workerData: this.#data,
      eval: entry.eval,
      execArgv: entry.execArgv,
    });
    let ready: () => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.#ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.#ready.catch(() => undefined); // a lazily started thread's failure reaches its POSTs instead
    worker.on('message', (reply: ForwardReply) => {
      if ('ready' in reply) {
        ready();
        return;
      }
      const pending = this.#pending.get(reply.seq);
      if (!pending) return;
      this.#pending.delete(reply.seq);
      if ('error' in reply) {
        pending.reject(errorWithCode(reply.error.message, reply.error.code));
        return;
      }
      const answer: FunctionAnswer = {
        status: reply.status,
        body: Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength),
      };
      if (reply.retryAfter !== undefined) answer.retryAfter = reply.retryAfter;
      pending.resolve(answer);
    });
    let why = 'exited';
    worker.on('error', (e) => (why = e.message));
    worker.on('exit', (code) => {
      failed(errorWithCode(`forwarding thread did not start: ${why}`, 'FORWARD_WORKER_STOPPED'));
      if (this.#worker === worker) this.#worker = undefined;
      if (this.#closed) return;
      this.#logger.error(
        { event: 'FORWARD_WORKER_STOPPED', exitCode: code, detail: why, inFlight: this.#pending.size },
        'forwarding thread stopped; its messages stay spooled and are retried',
      );
      this.#failPending(`forwarding thread stopped: ${why}`, 'FORWARD_WORKER_STOPPED');
    });
    return worker;
  }

  #failPending(message: string, code: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(errorWithCode(message, code));
  }
}

function errorWithCode(message: string, code: string | undefined): Error {
  const err = new Error(message) as NodeJS.ErrnoException;
  if (code !== undefined) err.code = code;
  return err;
}

/** The forwarding thread's code as one script, embedded by the single-file build (build-bundle.ts). */
declare const __FORWARD_WORKER_SOURCE__: string | undefined;

/**
 * Where the thread's code is: embedded in the single-file build, forward-worker.js beside this file in the
 * tsc build, and forward-worker.ts (through tsx's require hook) when running from source.
 */
function workerEntry(): { filename: string; eval: boolean; execArgv: string[] } {
  if (typeof __FORWARD_WORKER_SOURCE__ !== 'undefined')
    return { filename: __FORWARD_WORKER_SOURCE__, eval: true, execArgv: [] };
  const ext = extname(__filename);
  const file = join(__dirname, `forward-worker${ext}`);
  return ext === '.ts'
    ? { filename: file, eval: false, execArgv: ['--require', require.resolve('tsx/cjs')] }
    : { filename: file, eval: false, execArgv: [] };
}
