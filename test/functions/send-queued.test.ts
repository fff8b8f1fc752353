import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { makeMessageStatusHandler } from '../../functions/http/message-status-handler';
import { makeSendQueuedHandler } from '../../functions/delivery/queued-delivery';
import { createStorageClients, type StorageClients } from '../../functions/state/storage-clients';
import { parseQueuePointer, type QueuePointer } from '../../functions/state/outbound-queue';
import {
  bodyOf,
  envelopeFor,
  invocation,
  mimeMessage,
  postMessage,
  SITE,
  startKit,
  statusRequest,
  type Kit,
} from './function-test-kit';

let kit: Kit;
/** The kit's table, container and queue, for what the tests do behind the function's back. */
let clients: StorageClients;
const sendQueued = makeSendQueuedHandler(() => kit.services);

beforeAll(async () => {
  kit = await startKit('queued', {
    settings: { BRIDGE_SYNC_MAX_BYTES: '1000' },
  });
  clients = createStorageClients(kit.config.storage, {
    table: kit.config.stateTable,
    container: kit.config.blobContainer,
    queue: kit.config.queueName,
  });
  await clients.ensureCreated();
});
afterAll(() => kit.close());
beforeEach(async () => {
  kit.graph.clear();
  await clients.queue.clearMessages();
});

/** Posts a message over the sync size: it is queued. */
async function queueMessage(subject = 'Queued scan'): Promise<string> {
  const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject, bodyBytes: 5000 }) });
  expect(res.status).toBe(202);
  return id;
}

/** Takes the next visible pointer off the queue, as the host would before invoking the trigger. */
async function nextPointer(): Promise<{ item: unknown; dequeueCount: number } | undefined> {
  const [m] = (await clients.queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 }))
    .receivedMessageItems;
  if (!m) return undefined;
  await clients.queue.deleteMessage(m.messageId, m.popReceipt);
  return { item: JSON.parse(m.messageText) as unknown, dequeueCount: m.dequeueCount };
}

async function runTrigger(item: unknown, dequeueCount = 1) {
  const inv = invocation('sendQueued', { dequeueCount });
  await sendQueued(item, inv.context);
  return inv;
}

const blobExists = (id: string) =>
  kit.services.outbound
    .load({ v: 1, siteId: SITE, messageId: id, blobName: `${SITE}/${id}`, attempts: 0, queuedAt: '' })
    .then((x) => x !== undefined);

describe('queue trigger (handler called as the host calls it)', () => {
  it('sends a queued message, records it sent and deletes the stored copy', async () => {
    const id = await queueMessage('Large scan');
    const next = await nextPointer();
    expect(parseQueuePointer(next?.item).messageId).toBe(id);
    const inv = await runTrigger(next!.item);
    expect(kit.graph.messages().map((m) => m.subject)).toEqual(['Large scan']);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent', phase: 'done' });
    expect(await blobExists(id)).toBe(false);
    expect(inv.events().some((e) => e.event === 'MESSAGE_SENT' && e.id === id)).toBe(true);
  });

  it('re-queues a throttled message with the Retry-After delay instead of sleeping, then sends it once', async () => {
    const id = await queueMessage();
    kit.graph.inject({ route: 'sendMail', status: 429, retryAfterSec: 1, code: 'ApplicationThrottled' });
    await runTrigger((await nextPointer())!.item);
    expect(kit.graph.messages()).toHaveLength(0);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({
      state: 'queued',
      attempts: 1,
      errorCode: 'GRAPH_THROTTLED',
    });
    expect(await nextPointer()).toBeUndefined(); // invisible for the Retry-After delay
    await new Promise((r) => setTimeout(r, 1200));
    const again = await nextPointer();
    expect(again).toBeDefined();
    expect(parseQueuePointer(again!.item).attempts).toBe(1);
    await runTrigger(again!.item);
    expect(kit.graph.messages()).toHaveLength(1);
    expect(
      kit.graph
        .requests()
        .filter((r) => r.route === 'sendMail')
        .map((r) => r.status),
    ).toEqual([429, 202]);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent' });
  });

  it('retries a transient failure far past 8 attempts and ends MESSAGE_EXPIRED only at the horizon, keeping the copy', async () => {
    const id = await queueMessage();
    kit.graph.inject({ route: 'sendMail', status: 503, times: 20 });
    const pointer = parseQueuePointer((await nextPointer())!.item);
    const realNow = kit.services.now;
    try {
      for (let attempts = 0; attempts < 12; attempts++) {
        await runTrigger({ ...pointer, attempts });
        expect(await kit.services.store.get(SITE, id)).toMatchObject({
          state: 'queued',
          attempts: attempts + 1,
        });
      }
      // The cloud's last error and next attempt are in the state answer while queued.
      const status = bodyOf(
        await makeMessageStatusHandler(() => kit.services)(
          statusRequest(id),
          invocation('messageStatus').context,
        ),
      );
      expect(status).toMatchObject({ state: 'queued', lastError: { code: 'GRAPH_UNAVAILABLE' } });
      expect(status.error).toBeUndefined();
      expect(Date.parse(status.nextAttemptAt ?? '')).toBeGreaterThan(Date.now() - 1000);
      // Past the horizon (BRIDGE_MAX_QUEUE_AGE_MS, counted from when the edge received it): expired.
      const horizon = Date.now() + kit.config.maxQueueAgeMs + 1000;
      kit.services.now = () => new Date(horizon);
      const inv = await runTrigger({ ...pointer, attempts: 12 });
      const record = await kit.services.store.get(SITE, id);
      expect(record).toMatchObject({ state: 'failed', errorCode: 'MESSAGE_EXPIRED' });
      expect(record?.reason).toMatch(/GRAPH_UNAVAILABLE/);
      expect(record?.error?.retryable).toBe(false);
      expect(await blobExists(id)).toBe(true); // kept for BRIDGE_RETENTION_MS (Blob lifecycle rule)
      expect(await kit.services.outbound.tagsOf(pointer)).toEqual({ 'bridge-state': 'failed' });
      expect(inv.events().map((e) => e.event)).toContain('MESSAGE_FAILED');
      expect(kit.graph.messages()).toHaveLength(0);
    } finally {
      kit.services.now = realNow;
    }
  });

  it('throws on a broken stored copy so the host retries, and puts a fresh pointer back on the last dequeue', async () => {
    const id = await queueMessage();
    const pointer = parseQueuePointer((await nextPointer())!.item);
    await kit.services.outbound.store(envelopeFor(id), Buffer.from('x'));
    await clients.container
      .getBlockBlobClient(pointer.blobName)
      .uploadData(Buffer.from('SGB/1 5\r\nnope!\r\n'));
    await expect(runTrigger(pointer, 1)).rejects.toMatchObject({ code: 'WIRE_MALFORMED' });
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'queued' });
    const inv = await runTrigger(pointer, kit.services.tuning.maxDequeueCount);
    // Not failed and not poisoned: the message keeps its place (a new pointer, a new dequeue count).
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'queued' });
    expect(inv.events().map((e) => e.event)).toContain('MESSAGE_REQUEUED');
    expect((await clients.queue.getProperties()).approximateMessagesCount).toBe(1);
  });

  it('ends a message failed when its stored copy is gone', async () => {
    const id = await queueMessage();
    const pointer: QueuePointer = parseQueuePointer((await nextPointer())!.item);
    await kit.services.outbound.delete(pointer);
    await runTrigger(pointer);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({
      state: 'failed',
      errorCode: 'QUEUED_COPY_MISSING',
    });
  });

  it('drops a pointer whose message already has a final state without sending again', async () => {
    const id = await queueMessage();
    const item = (await nextPointer())!.item;
    await runTrigger(item);
    await runTrigger(item); // a duplicate delivery of the same pointer
    expect(kit.graph.messages()).toHaveLength(1);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent' });
  });

  it('sends a pointer whose state record is missing, recording the message afresh', async () => {
    const id = await queueMessage('Orphan pointer');
    const item = (await nextPointer())!.item;
    await clients.table.deleteEntity(SITE, id);
    await runTrigger(item);
    expect(kit.graph.messages().map((m) => m.subject)).toEqual(['Orphan pointer']);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent' });
  });

  it('records a permanent refusal by Graph as failed and does not retry it', async () => {
    const id = await queueMessage();
    kit.graph.inject({
      route: 'sendMail',
      status: 400,
      code: 'ErrorInvalidRecipients',
      message: 'At least one recipient is not valid.',
    });
    await runTrigger((await nextPointer())!.item);
    const record = await kit.services.store.get(SITE, id);
    expect(record?.state).toBe('failed');
    expect(record?.error).toMatchObject({
      code: 'GRAPH_INVALID_RECIPIENTS',
      retryable: false,
      graph: { status: 400, code: 'ErrorInvalidRecipients' },
    });
    expect(await blobExists(id)).toBe(true); // kept for the retention period, resubmittable
    expect(await nextPointer()).toBeUndefined();
  });

  it('lets the status GET see the queued state before the trigger ran', async () => {
    const id = await queueMessage();
    const res = await makeMessageStatusHandler(() => kit.services)(
      statusRequest(id),
      invocation('messageStatus').context,
    );
    expect(res.status).toBe(200);
    expect(bodyOf(res)).toMatchObject({ id, state: 'queued' });
  });
});
