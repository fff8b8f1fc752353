import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';

import type { Envelope } from '../../core/envelope';
import { Secret } from '../secret';
import { HeldMessage } from '../spool/held-message';
import { FunctionClient, type MimeSource } from './function-client';

/**
 * The thread that talks to the function. The SMTP intake is one JavaScript thread; hashing, signing and
 * POSTing a message (and reading a large one back from disk) cost about as much CPU as receiving it, so that
 * work runs here, beside the intake, on the machine's other core (threaded-function-client.ts is the other
 * end). It holds no state of its own: every request carries what it needs, and the spool, which stays on the
 * main thread, remains the only record of a message.
 */
export const FORWARD_WORKER_ROLE = 'smtp-graph-bridge/forward-worker';

/** Options for the worker's FunctionClient; secrets travel revealed, inside this process only. */
export interface ForwardWorkerData {
  role: typeof FORWARD_WORKER_ROLE;
  baseUrl: string;
  siteId: string;
  siteSecret: string;
  functionKey?: string;
  timeoutMs: number;
  maxSockets: number;
}

/** Main thread → worker: one POST. The thread is ended with Worker.terminate(), after the forwarder drained. */
export interface ForwardRequest {
  seq: number;
  envelope: Envelope;
  mime: { bytes: Uint8Array } | { path: string; bytes: number };
}

/** Worker → main thread: ready to serve, then per request the function's answer, or why there was none
 * (the error code is kept for classify-function-answer.ts). */
export type ForwardReply =
  | { ready: true }
  | { seq: number; status: number; body: Uint8Array; retryAfter?: string }
  | { seq: number; error: { message: string; code?: string } };

function isForwardWorker(): boolean {
  return !isMainThread && (workerData as Partial<ForwardWorkerData> | null)?.role === FORWARD_WORKER_ROLE;
}

export function serveForwardRequests(port: MessagePort, data: ForwardWorkerData): void {
  const options: ConstructorParameters<typeof FunctionClient>[0] = {
    baseUrl: data.baseUrl,
    siteId: data.siteId,
    siteSecret: new Secret(data.siteSecret),
    timeoutMs: data.timeoutMs,
    maxSockets: data.maxSockets,
  };
  if (data.functionKey !== undefined) options.functionKey = new Secret(data.functionKey);
  const client = new FunctionClient(options);
  port.on('message', ({ seq, envelope, mime }: ForwardRequest) => {
    const source: MimeSource =
      'path' in mime
        ? mime
        : {
            held: HeldMessage.of(
              Buffer.from(mime.bytes.buffer, mime.bytes.byteOffset, mime.bytes.byteLength),
            ),
          };
    client.post(envelope, source).then(
      (answer) => {
        const reply: ForwardReply = { seq, status: answer.status, body: answer.body };
        if (answer.retryAfter !== undefined) reply.retryAfter = answer.retryAfter;
        port.postMessage(reply);
      },
      (e: unknown) => {
        const err = e as NodeJS.ErrnoException;
        const error: { message: string; code?: string } = { message: String(err?.message ?? e) };
        if (typeof err?.code === 'string') error.code = err.code;
        port.postMessage({ seq, error } satisfies ForwardReply);
      },
    );
  });
  port.postMessage({ ready: true } satisfies ForwardReply);
}

// Started as the forwarding thread (this file, or its build embedded in the single-file build): serve at once.
if (isForwardWorker()) serveForwardRequests(parentPort!, workerData as ForwardWorkerData);
