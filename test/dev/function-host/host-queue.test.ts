import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { QueueServiceClient } from '@azure/storage-queue';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { MAX_POLLING_INTERVAL_MS, QueuePoller } from '../../../dev/function-host/host-queue';
import { uniqueStorageNames } from '../../functions/storage-names';

const service = QueueServiceClient.fromConnectionString(inject('azuriteConnectionString'));
let poller: QueuePoller | undefined;
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

async function queues() {
  const name = uniqueStorageNames('poller').queue;
  const queue = service.getQueueClient(name);
  const poison = service.getQueueClient(`${name}-poison`);
  await queue.createIfNotExists();
  return { queue, poison };
}

describe('local queue poller (the host behaviour the queue trigger relies on)', () => {
  it('hands the handler the parsed JSON item with its dequeue count and deletes it on success', async () => {
    const { queue, poison } = await queues();
    await queue.sendMessage(JSON.stringify({ hello: 'world' }));
    const seen: Array<{ item: unknown; dequeueCount: unknown }> = [];
    poller = new QueuePoller(
      queue,
      poison,
      async (item, ctx) => void seen.push({ item, dequeueCount: ctx.triggerMetadata?.dequeueCount }),
      {
        functionName: 't',
        logger: memoryLogger(),
        logHandler: () => undefined,
        maxPollingIntervalMs: 50,
      },
    );
    poller.start();
    await vi.waitFor(() => expect(seen).toHaveLength(1), 15_000);
    expect(seen).toEqual([{ item: { hello: 'world' }, dequeueCount: 1 }]);
    await vi.waitFor(
      async () => expect((await queue.getProperties()).approximateMessagesCount).toBe(0),
      15_000,
    );
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('makes a failed message visible again after the visibility timeout and moves it to the poison queue on the last dequeue', async () => {
    const { queue, poison } = await queues();
    await queue.sendMessage('plain text item');
    const counts: unknown[] = [];
    const logger = memoryLogger();
    poller = new QueuePoller(
      queue,
      poison,
      async (item, ctx) => {
        expect(item).toBe('plain text item');
        counts.push(ctx.triggerMetadata?.dequeueCount);
        throw new Error('handler failed');
      },
      {
        functionName: 't',
        logger,
        logHandler: () => undefined,
        maxPollingIntervalMs: 50,
        visibilityTimeoutMs: 1000,
        maxDequeueCount: 2,
      },
    );
    poller.start();
    await vi.waitFor(async () => {
      expect(await poison.exists()).toBe(true);
      expect((await poison.peekMessages()).peekedMessageItems).toHaveLength(1);
    }, 15_000);
    expect(counts).toEqual([1, 2]);
    expect((await poison.peekMessages()).peekedMessageItems[0]?.messageText).toBe('plain text item');
    expect(logger.lines.some((l) => l.event === 'QUEUE_POISON')).toBe(true);
  });

  it('polls an empty queue at least as often as host.json maxPollingInterval says the Functions host does', () => {
    const host = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'host.json'), 'utf8')) as {
      extensions: { queues: { maxPollingInterval: string } };
    };
    const [h, m, sec] = host.extensions.queues.maxPollingInterval.split(':').map(Number) as [
      number,
      number,
      number,
    ];
    expect(((h * 60 + m) * 60 + sec) * 1000).toBe(MAX_POLLING_INTERVAL_MS);
  });
});
