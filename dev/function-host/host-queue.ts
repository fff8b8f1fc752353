import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { InvocationContext } from '@azure/functions';
import type { QueueClient, DequeuedMessageItem } from '@azure/storage-queue';

import type { Logger } from '../../core/log';

/**
 * Runs a queue-trigger handler against a Storage queue the way the Functions host does (host.json
 * extensions.queues): up to `batchSize` messages at a time; a message stays invisible while its handler
 * runs (renewed); success deletes it; a throw makes it visible again after `visibilityTimeoutMs`; on the
 * `maxDequeueCount`-th failed delivery it moves to `<queue>-poison`. The handler gets the message as the
 * Node worker gives it: parsed JSON when the text is JSON, else the text, with the trigger metadata.
 */
export type QueueHandler = (item: unknown, context: InvocationContext) => Promise<void>;

export interface QueuePollerOptions {
  functionName: string;
  batchSize?: number;
  /** Visibility after a failed invocation (host.json visibilityTimeout). Default 30 s. */
  visibilityTimeoutMs?: number;
  maxDequeueCount?: number;
  /** Longest pause between polls of an empty queue. Default MAX_POLLING_INTERVAL_MS. */
  maxPollingIntervalMs?: number;
  logger: Logger;
  logHandler: (level: string, ...args: unknown[]) => void;
}

/**
 * host.json extensions.queues.maxPollingInterval (a test keeps them equal). The Functions host backs off to
 * this when the queue looks empty — and a queue whose messages are all waiting out a pacing delay looks
 * empty — so it bounds how late a re-queued message is picked up after it becomes visible. The host's own
 * default is 1 min, which would add up to a minute to every pacing wait of a burst (bench/burst/README.md).
 */
export const MAX_POLLING_INTERVAL_MS = 2000;

/** How long a running message stays hidden before the lease is renewed. */
const LEASE_SECONDS = 60;

export class QueuePoller {
  readonly #queue: QueueClient;
  readonly #poison: QueueClient;
  readonly #handler: QueueHandler;
  readonly #opts: Required<Omit<QueuePollerOptions, 'logger' | 'logHandler'>> &
    Pick<QueuePollerOptions, 'logger' | 'logHandler'>;
  readonly #running = new Set<Promise<void>>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(queue: QueueClient, poison: QueueClient, handler: QueueHandler, options: QueuePollerOptions) {
    this.#queue = queue;
    this.#poison = poison;
    this.#handler = handler;
    this.#opts = {
      batchSize: 4,
      visibilityTimeoutMs: 30_000,
      maxDequeueCount: 8,
      maxPollingIntervalMs: MAX_POLLING_INTERVAL_MS,
      ...options,
    };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops polling and waits for the invocations in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#running]);
  }

  async #run(): Promise<void> {
    let idleMs = 50;
    while (!this.#stopped) {
      const free = this.#opts.batchSize - this.#running.size;
      let received: DequeuedMessageItem[] = [];
      if (free > 0) {
        try {
          received = (
            await this.#queue.receiveMessages({ numberOfMessages: free, visibilityTimeout: LEASE_SECONDS })
          ).receivedMessageItems;
        } catch (err) {
          this.#opts.logger.warn({ event: 'MESSAGE_DEFERRED', detail: 'queue poll failed', err });
        }
      }
      for (const message of received) {
        const run = this.#invoke(message).finally(() => this.#running.delete(run));
        this.#running.add(run);
      }
      if (received.length > 0) {
        idleMs = 50;
        continue;
      }
      await this.#pause(idleMs);
      idleMs = Math.min(this.#opts.maxPollingIntervalMs, idleMs * 2);
    }
  }

  async #pause(ms: number): Promise<void> {
    const ac = new AbortController();
    this.#wake = () => ac.abort();
    await sleep(ms, undefined, { signal: ac.signal }).catch(() => undefined);
    this.#wake = undefined;
  }

  async #invoke(message: DequeuedMessageItem): Promise<void> {
    let popReceipt = message.popReceipt;
    // Keep the message hidden while the handler runs, as the host does for long invocations.
    const renew = setInterval(
      () => {
        void this.#queue
          .updateMessage(message.messageId, popReceipt, undefined, LEASE_SECONDS)
          .then((r) => {
            if (r.popReceipt) popReceipt = r.popReceipt;
          })
          .catch(() => undefined);
      },
      (LEASE_SECONDS * 1000) / 3,
    );
    renew.unref();
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: this.#opts.functionName,
      logHandler: this.#opts.logHandler,
      triggerMetadata: {
        id: message.messageId,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn.toISOString(),
        expirationTime: message.expiresOn.toISOString(),
        nextVisibleTime: message.nextVisibleOn.toISOString(),
        popReceipt: message.popReceipt,
      },
    });
    let failed: unknown;
    try {
      await this.#handler(asQueueItem(message.messageText), context);
    } catch (err) {
      failed = err;
    } finally {
      clearInterval(renew);
    }
    try {
      if (failed === undefined) {
        await this.#queue.deleteMessage(message.messageId, popReceipt);
      } else if (message.dequeueCount >= this.#opts.maxDequeueCount) {
        await this.#poison.createIfNotExists();
        await this.#poison.sendMessage(message.messageText);
        await this.#queue.deleteMessage(message.messageId, popReceipt);
        this.#opts.logger.error({
          event: 'QUEUE_POISON',
          queueMessageId: message.messageId,
          dequeueCount: message.dequeueCount,
          err: failed,
        });
      } else {
        await this.#queue.updateMessage(
          message.messageId,
          popReceipt,
          undefined,
          Math.ceil(this.#opts.visibilityTimeoutMs / 1000),
        );
      }
    } catch (err) {
      // The lease lapses by itself and the message comes back; nothing is lost.
      this.#opts.logger.warn({ event: 'MESSAGE_DEFERRED', detail: 'queue message bookkeeping failed', err });
    }
  }
}

function asQueueItem(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
