import { Readable } from 'node:stream';

import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';

import type { Envelope } from '../../core/envelope';
import { MESSAGE_ID_PATTERN, SITE_ID_PATTERN } from '../../core/envelope';
import { bridgeError } from '../../core/errors';
import { FrameDecoder, frameHead } from '../../core/wire';
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

  /** Stores the message; returns the pointer to enqueue. Overwrites an earlier copy of the same id. */
  async store(envelope: Envelope, mime: Buffer, now: Date = new Date()): Promise<QueuePointer> {
    await this.#ready();
    const blobName = `${envelope.siteId}/${envelope.messageId}`;
    const head = frameHead(envelope);
    try {
      // One PUT of head + MIME streamed from the two buffers (a factory, so a retry starts over), instead of
      // concatenating them into a second copy of the message first.
      await this.#container
        .getBlockBlobClient(blobName)
        .upload(() => Readable.from([head, mime], { objectMode: false }), head.length + mime.length, {
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
    const loaded = await this.loadChunks(pointer);
    return loaded && { envelope: loaded.envelope, mime: Buffer.concat(loaded.mime) };
  }

  /**
   * Reads the stored frame back with the MIME as the chunks the download delivered (views, never joined):
   * what the queue trigger plans from (planDelivery takes chunks), so a 30 MB message is held once, not as
   * the download's chunks plus one Buffer copied from them.
   */
  async loadChunks(pointer: QueuePointer): Promise<{ envelope: Envelope; mime: Buffer[] } | undefined> {
    await this.#ready();
    const chunks: Buffer[] = [];
    try {
      const download = await this.#container.getBlockBlobClient(pointer.blobName).download();
      for await (const chunk of (download.readableStreamBody ?? []) as AsyncIterable<Buffer>)
        chunks.push(chunk);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw toStorageError(err, 'load queued message');
    }
    const decoder = new FrameDecoder();
    const mime = chunks.map((chunk) => decoder.push(chunk)).filter((part) => part.length > 0);
    const envelope = decoder.finish();
    if (envelope.messageId !== pointer.messageId || envelope.siteId !== pointer.siteId) {
      throw bridgeError('INTERNAL', { detail: 'stored message does not match its queue pointer' });
    }
    return { envelope, mime };
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
