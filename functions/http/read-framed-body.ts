import { createHash } from 'node:crypto';

import type { Envelope } from '../../core/envelope';
import { bridgeError } from '../../core/errors';
import { FrameDecoder, MAX_ENVELOPE_JSON_BYTES } from '../../core/wire';

/**
 * Reads a framed request body (core/wire.ts) from its stream, never buffering more than the limit: the
 * MIME byte count is checked after every chunk and the stream is cancelled as soon as it passes
 * `maxMimeBytes`. The SHA-256 of the whole body is computed on the way and compared with the signed digest
 * at the end, so a truncated or altered body is never acted on. The MIME is returned as the chunks it came
 * in (views, never joined): joining them would hold the message twice for a moment.
 */
export interface FramedBody {
  envelope: Envelope;
  mime: Buffer[];
  /** The MIME's length in bytes. */
  mimeBytes: number;
}

/** Frame head and envelope JSON come on top of the MIME; anything beyond this is not a frame of ours. */
const FRAME_OVERHEAD_BYTES = MAX_ENVELOPE_JSON_BYTES + 64;

/** Refuses by Content-Length alone when the client announced a body that cannot fit. */
export function checkAnnouncedLength(contentLength: string | null, maxMimeBytes: number): void {
  if (contentLength === null || !/^\d+$/.test(contentLength)) return;
  if (Number(contentLength) > maxMimeBytes + FRAME_OVERHEAD_BYTES) {
    throw bridgeError('MESSAGE_TOO_LARGE', {
      detail: `request of ${contentLength} bytes; the limit is ${maxMimeBytes} bytes of message`,
    });
  }
}

export async function readFramedBody(
  body: ReadableStream<Uint8Array> | null,
  opts: { maxMimeBytes: number; expectedSha256: string },
): Promise<FramedBody> {
  if (!body) throw bridgeError('WIRE_MALFORMED', { detail: 'empty body' });
  const reader = body.getReader();
  const decoder = new FrameDecoder();
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let mimeBytes = 0;
  let done = false;
  try {
    for (;;) {
      const next = await reader.read().catch((cause: unknown) => {
        throw bridgeError('WIRE_MALFORMED', { detail: 'the request body ended early', cause });
      });
      if (next.done) break;
      hash.update(next.value);
      const mime = decoder.push(next.value);
      if (mime.length === 0) continue;
      mimeBytes += mime.length;
      if (mimeBytes > opts.maxMimeBytes) {
        throw bridgeError('MESSAGE_TOO_LARGE', { detail: `the limit is ${opts.maxMimeBytes} bytes` });
      }
      chunks.push(mime); // stream chunks are fresh buffers, never reused, so keeping views is safe
    }
    done = true;
  } finally {
    // Stop the upload instead of draining what we will not use; ignore errors from an already closed stream.
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  const envelope = decoder.finish();
  if (hash.digest('hex') !== opts.expectedSha256) throw bridgeError('BODY_DIGEST_MISMATCH');
  return { envelope, mime: chunks, mimeBytes };
}
