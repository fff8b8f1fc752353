import { Readable } from 'node:stream';

import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';

import type { Envelope } from '../../core/envelope';
import { MESSAGE_ID_PATTERN, SITE_ID_PATTERN } from '../../core/envelope';
import { bridgeError } from '../../core/errors';
import { FrameDecoder, frameHead } from '../../core/wire';
import type { MimeBytes, MimeStream } from '../mime/raw-mime';
import { statusOf, toStorageError } from './storage-errors';

/**
 * Messages waiting for the queue-triggered sender: the frame (envelope + raw MIME, the wire format) in Blob
 * Storage, and a small JSON pointer on the Storage queue (queue messages are limited to 64 KB). host.json
 * sets messageEncoding "none", so the pointer is plain JSON text.
 */
export const queuePointerSchema = z.object({
  v: z.literal(1),
  siteId: z.string().regex(SITE_ID_PATTERN),
  messageId: z.string().regex(MESSAGE_ID_PATTERN),
  blobName: z.string().min(1).max(1024),
  /**
   * Graph attempts that already failed with a retryable error (the queue's dequeueCount restarts on
   * re-enqueue). Only for the backoff table: there is no attempt limit, only the horizon.
   */
  attempts: z.number().int().nonnegative(),
  queuedAt: z.string(),
});

export type QueuePointer = z.infer<typeof queuePointerSchema>;

/**
 * A stored message opened for reading: the envelope (from the frame head, read first), the MIME as a stream
 * read once, straight from the download, and `release()`, which gives the download up — call it when done,
 * read to the end or not (harmless after the end).
 */
export interface StoredMessage {
  envelope: Envelope;
  mime: MimeStream;
  release(): void;
}

/** The longest visibility delay Azure Storage queues accept (7 days). */
const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600;

/** Blob index tag the retention lifecycle rule matches (infra/modules: `bridge-state` == `failed`). */
export const RETENTION_TAG = 'bridge-state';

export class OutboundQueue {
  readonly #container: ContainerClient;
  readonly #queue: QueueClient;
  readonly #ready: () => Promise<void>;

  constructor(container: ContainerClient, queue: QueueClient, ensureCreated: () => Promise<void>) {
    this.#container = container;
    this.#queue = queue;
    this.#ready = ensureCreated;
  }

  /**
   * Stores the message (one Buffer or the chunks it was read in); returns the pointer to enqueue. Overwrites
   * an earlier copy of the same id.
   */
  async store(envelope: Envelope, mime: MimeBytes, now: Date = new Date()): Promise<QueuePointer> {
    await this.#ready();
    const blobName = `${envelope.siteId}/${envelope.messageId}`;
    const head = frameHead(envelope);
    const pieces = Buffer.isBuffer(mime) ? [mime] : mime;
    const length = pieces.reduce((n, p) => n + p.length, head.length);
    try {
      // One PUT of head + MIME streamed from the buffers (a factory, so a retry starts over), instead of
      // concatenating them into a second copy of the message first.
      await this.#container
        .getBlockBlobClient(blobName)
        .upload(() => Readable.from([head, ...pieces], { objectMode: false }), length, {
          blobHTTPHeaders: { blobContentType: 'application/vnd.smtp-graph-bridge.v1' },
        });
    } catch (err) {
      throw toStorageError(err, 'store queued message');
    }
    return {
      v: 1,
      siteId: envelope.siteId,
      messageId: envelope.messageId,
      blobName,
      attempts: 0,
      queuedAt: now.toISOString(),
    };
  }

  /** Puts a pointer on the queue, invisible for `delayMs` (how retries wait without holding an instance). */
  async enqueue(pointer: QueuePointer, delayMs = 0): Promise<void> {
    await this.#ready();
    const visibilityTimeout = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
    try {
      await this.#queue.sendMessage(JSON.stringify(pointer), { visibilityTimeout, messageTimeToLive: -1 });
    } catch (err) {
      throw toStorageError(err, 'enqueue message pointer');
    }
  }

  /** Reads the stored frame back as one Buffer; a missing or corrupt blob is reported as such (not retryable). */
  async load(pointer: QueuePointer): Promise<{ envelope: Envelope; mime: Buffer } | undefined> {
    const stored = await this.open(pointer);
    if (!stored) return undefined;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stored.mime.chunks) chunks.push(chunk);
    } finally {
      stored.release();
    }
    return { envelope: stored.envelope, mime: Buffer.concat(chunks) };
  }

  /**
   * Opens the stored frame for one pass: reads the frame head (the envelope) and leaves the MIME in the
   * download until it is read — what the queue trigger plans from (planDelivery reads a stream while it
   * arrives), so a 30 MB message is never held whole while its attachment is decoded. Undefined when the
   * blob is missing; a frame that does not match its pointer is reported (not retryable); storage failures,
   * also while the MIME is read, are STORAGE_UNAVAILABLE.
   */
  async open(pointer: QueuePointer): Promise<StoredMessage | undefined> {
    await this.#ready();
    let body: NodeJS.ReadableStream | undefined;
    let size: number;
    try {
      const download = await this.#container.getBlockBlobClient(pointer.blobName).download();
      body = download.readableStreamBody;
      size = download.contentLength ?? 0;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw toStorageError(err, 'load queued message');
    }
    const stream = body ?? Readable.from([]);
    const release = (): void => {
      if ('destroy' in stream && typeof stream.destroy === 'function') (stream as Readable).destroy();
    };
    const source = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const decoder = new FrameDecoder();
    const first: Buffer[] = [];
    let headBytes = 0;
    try {
      while (!decoder.envelope) {
        const next = await source.next().catch((err: unknown) => {
          throw toStorageError(err, 'load queued message');
        });
        if (next.done === true) break;
        const mime = decoder.push(next.value);
        headBytes += next.value.length - mime.length;
        if (mime.length > 0) first.push(mime);
      }
      const envelope = decoder.finish();
      if (envelope.messageId !== pointer.messageId || envelope.siteId !== pointer.siteId) {
        throw bridgeError('INTERNAL', { detail: 'stored message does not match its queue pointer' });
      }
      return {
        envelope,
        mime: { chunks: mimeChunks(first, source), byteLength: Math.max(0, size - headBytes) },
        release,
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Marks the stored copy of a message that ended failed, instead of deleting it: its body is kept for an
   * admin until the Blob lifecycle rule removes it BRIDGE_RETENTION_MS later (infra: the rule matches the
   * `bridge-state=failed` index tag and counts from the last modification, which setting the metadata
   * here makes the failure time). Best effort: the container-wide backstop rule removes it anyway.
   */
  async keepForRetention(pointer: QueuePointer, now: Date = new Date()): Promise<boolean> {
    const blob = this.#container.getBlockBlobClient(pointer.blobName);
    try {
      await blob.setMetadata({ bridgestate: 'failed', failedat: now.toISOString() });
      await blob.setTags({ [RETENTION_TAG]: 'failed' });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw toStorageError(err, 'mark failed message for retention');
    }
  }

  /** The index tags of a stored copy (tests and diagnostics); undefined when there is none. */
  async tagsOf(pointer: QueuePointer): Promise<Record<string, string> | undefined> {
    try {
      return (await this.#container.getBlockBlobClient(pointer.blobName).getTags()).tags;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw toStorageError(err, 'read tags of queued message');
    }
  }

  async delete(pointer: QueuePointer): Promise<void> {
    try {
      await this.#container.getBlockBlobClient(pointer.blobName).deleteIfExists();
    } catch (err) {
      throw toStorageError(err, 'delete queued message');
    }
  }

  /** Storage reachability for the deep health check. */
  async probe(): Promise<void> {
    await this.#ready();
    try {
      await Promise.all([this.#container.getProperties(), this.#queue.getProperties()]);
    } catch (err) {
      throw toStorageError(err, 'read container and queue properties');
    }
  }
}

/** The MIME chunks already read with the frame head, then the rest of the download as it comes. */
async function* mimeChunks(first: Buffer[], source: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  let ended = false;
  try {
    for (let chunk = first.shift(); chunk !== undefined; chunk = first.shift()) yield chunk;
    for (;;) {
      const next = await source.next().catch((err: unknown) => {
        throw toStorageError(err, 'load queued message');
      });
      if (next.done === true) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!ended) await source.return?.(); // given up early: the download is closed
  }
}

/** Parses a queue item as the host hands it over (object when the text was JSON, else the text). */
export function parseQueuePointer(item: unknown): QueuePointer {
  let value = item;
  if (typeof item === 'string') {
    try {
      value = JSON.parse(item) as unknown;
    } catch {
      throw bridgeError('INTERNAL', { detail: 'queue item is not JSON' });
    }
  } else if (Buffer.isBuffer(item)) {
    return parseQueuePointer(item.toString('utf8'));
  }
  const parsed = queuePointerSchema.safeParse(value);
  if (!parsed.success) throw bridgeError('INTERNAL', { detail: 'queue item is not a message pointer' });
  return parsed.data;
}
