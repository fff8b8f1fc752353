import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';

import { HttpRequest, InvocationContext, type HttpRequestInit } from '@azure/functions';

import type { Envelope } from '../../core/envelope';
import { frameHead, signedHeaders, WIRE_CONTENT_TYPE, WIRE_PATH } from '../../core/wire';

/**
 * Calls into the function the way the Functions host does in stream mode (enableHttpStream): a fetch Request
 * whose body is a stream pulled in socket-sized chunks, wrapped in HttpRequest (dev/function-host/host-request.ts
 * does the same for `npm start`), and a fresh InvocationContext per invocation.
 */

/** What a socket hands over per read, roughly (Node's default highWaterMark for network streams). */
const SOCKET_CHUNK_BYTES = 64 * 1024;

export function newMessageId(): string {
  return `bench-${randomBytes(8).toString('hex')}`;
}

export function benchEnvelope(siteId: string, messageId: string): Envelope {
  return {
    messageId,
    siteId,
    mailFrom: 'scanner@contoso.com',
    rcptTo: ['alice@fabrikam.com'],
    clientAddress: '192.168.1.20',
    helo: 'mfp-3f',
    receivedAt: new Date().toISOString(),
  };
}

/** The frame head + the MIME file as one stream of chunks, never more than one chunk in memory. */
function frameStream(head: Buffer, messagePath: string): ReadableStream<Uint8Array> {
  let file: AsyncIterator<Buffer> | undefined;
  let headSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headSent) {
        headSent = true;
        controller.enqueue(new Uint8Array(head));
        return;
      }
      file ??= createReadStream(messagePath, { highWaterMark: SOCKET_CHUNK_BYTES })[Symbol.asyncIterator]();
      const next = await file.next();
      if (next.done) controller.close();
      else
        controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    },
  });
}

/**
 * SHA-256 of head + file (the edge signs the digest of the whole body), read through one reused buffer: a
 * read stream would leave the file's size in freed chunks that the allocator keeps, so the idle baseline
 * taken next would already hold room for the message and the intake's peak would read low.
 */
function frameSha256(head: Buffer, messagePath: string): string {
  const hash = createHash('sha256').update(head);
  const buffer = Buffer.allocUnsafe(SOCKET_CHUNK_BYTES);
  const fd = openSync(messagePath, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * A signed POST /api/v1/messages for the message in `messagePath`. Everything that costs time up front (the
 * digest) is done here, before the measurement starts; the body is read only when the handler pulls it.
 */
export async function preparePost(
  envelope: Envelope,
  messagePath: string,
  siteSecret: string,
): Promise<() => HttpRequest> {
  const head = frameHead(envelope);
  const bodySha256 = frameSha256(head, messagePath);
  const contentLength = head.length + (await stat(messagePath)).size;
  const headers = {
    'content-type': WIRE_CONTENT_TYPE,
    'content-length': String(contentLength),
    ...signedHeaders({
      siteId: envelope.siteId,
      messageId: envelope.messageId,
      bodySha256,
      secret: siteSecret,
    }),
  };
  return () => {
    const init: HttpRequestInit & { nativeRequest: Request } = {
      nativeRequest: new Request(`https://bridge.example${WIRE_PATH}`, {
        method: 'POST',
        headers,
        body: frameStream(head, messagePath),
        duplex: 'half',
      } as RequestInit),
    };
    return new HttpRequest(init);
  };
}

/** An invocation context whose log lines are dropped (their formatting is part of the measured work). */
export function quietContext(
  functionName: string,
  triggerMetadata?: Record<string, unknown>,
): InvocationContext {
  return new InvocationContext({
    functionName,
    logHandler: () => undefined,
    ...(triggerMetadata ? { triggerMetadata } : {}),
  });
}
