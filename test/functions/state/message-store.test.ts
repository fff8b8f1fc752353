import { describe, expect, inject, it } from 'vitest';

import { bridgeError } from '../../../core/errors';
import { MessageStore } from '../../../functions/state/message-store';
import { OutboundQueue, parseQueuePointer } from '../../../functions/state/outbound-queue';
import { createStorageClients } from '../../../functions/state/storage-clients';
import { uniqueStorageNames } from '../storage-names';

const connectionString = inject('azuriteConnectionString');
const clients = createStorageClients(
  { kind: 'connectionString', connectionString },
  uniqueStorageNames('store'),
);
const store = new MessageStore(clients.table, clients.ensureCreated);
const outbound = new OutboundQueue(clients.container, clients.queue, clients.ensureCreated);
const now = new Date('2026-03-01T10:00:00Z');

describe('message state records', () => {
  it('records a new id once and hands the existing record to every later claim', async () => {
    const first = await store.claim('hq', 'msg-claim-0001', 'attempt-1', now);
    const second = await store.claim('hq', 'msg-claim-0001', 'attempt-2', now);
    expect(first.kind).toBe('new');
    expect(second).toMatchObject({
      kind: 'existing',
      record: { attemptId: 'attempt-1', state: 'received', phase: 'preparing' },
    });
  });

  it('keeps the same id of two sites apart', async () => {
    await store.claim('hq', 'msg-shared-0001', 'a', now);
    expect((await store.claim('branch', 'msg-shared-0001', 'b', now)).kind).toBe('new');
    expect(await store.get('other', 'msg-shared-0001')).toBeUndefined();
  });

  it('refuses an update based on an outdated read (ETag), so two attempts cannot both own a message', async () => {
    const claim = await store.claim('hq', 'msg-etag-0001', 'a', now);
    const winner = await store.tryUpdate(claim.record, { phase: 'graph' });
    const loser = await store.tryUpdate(claim.record, { phase: 'released' });
    expect(winner?.phase).toBe('graph');
    expect(loser).toBeNull();
    expect((await store.get('hq', 'msg-etag-0001'))?.phase).toBe('graph');
  });

  it('stores the outcome with its error and Graph request id, and no content', async () => {
    const claim = await store.claim('hq', 'msg-fail-0001', 'a', now);
    const error = bridgeError('GRAPH_MAILBOX_NOT_FOUND', {
      graph: { status: 404, code: 'MailboxNotEnabledForRESTAPI', requestId: 'req-1' },
    });
    await store.tryUpdate(claim.record, {
      state: 'failed',
      phase: 'done',
      error,
      sender: 'scan@contoso.com',
      sizeBytes: 1234,
      recipientCount: 3,
    });
    const read = await store.get('hq', 'msg-fail-0001');
    expect(read).toMatchObject({
      state: 'failed',
      errorCode: 'GRAPH_MAILBOX_NOT_FOUND',
      graphRequestId: 'req-1',
      sender: 'scan@contoso.com',
      sizeBytes: 1234,
      recipientCount: 3,
      error: { code: 'GRAPH_MAILBOX_NOT_FOUND', retryable: false, graph: { status: 404 } },
    });
  });
});

describe('queued messages in Blob Storage and the queue', () => {
  const envelope = {
    messageId: 'msg-queue-0001',
    siteId: 'hq',
    mailFrom: 'scan@contoso.com',
    rcptTo: ['a@contoso.com'],
    clientAddress: '10.0.0.5',
    helo: 'copier',
    receivedAt: now.toISOString(),
  };

  it('round-trips the envelope and the exact MIME bytes through a pointer that fits a queue message', async () => {
    const mime = Buffer.concat([
      Buffer.from('Subject: x\r\n\r\n'),
      Buffer.from([0, 255, 13, 10, 46, 13, 10]),
    ]);
    const pointer = await outbound.store(envelope, mime, now);
    await outbound.enqueue(pointer);
    const [msg] = (await clients.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    expect(msg).toBeDefined();
    expect(msg!.messageText.length).toBeLessThan(64 * 1024);
    const parsed = parseQueuePointer(msg!.messageText);
    expect(parsed).toEqual(pointer);
    const loaded = await outbound.load(parsed);
    expect(loaded?.envelope).toEqual(envelope);
    expect(loaded?.mime.equals(mime)).toBe(true);
    await outbound.delete(parsed);
    expect(await outbound.load(parsed)).toBeUndefined();
  });

  it('stores a message given as chunks and opens it as a stream of the exact bytes, read once', async () => {
    const mime = Buffer.concat([Buffer.from('Subject: y\r\n\r\n'), Buffer.alloc(300_000, 0xab)]);
    const pieces = [mime.subarray(0, 5), mime.subarray(5, 100_001), mime.subarray(100_001)];
    const pointer = await outbound.store({ ...envelope, messageId: 'msg-queue-0003' }, pieces, now);
    const opened = await outbound.open(pointer);
    expect(opened?.envelope).toEqual({ ...envelope, messageId: 'msg-queue-0003' });
    expect(opened?.mime.byteLength).toBe(mime.length);
    const read: Buffer[] = [];
    for await (const chunk of opened!.mime.chunks) read.push(chunk);
    opened!.release();
    expect(Buffer.concat(read).equals(mime)).toBe(true);

    // Given up without reading (a held message): nothing breaks, and the copy is still there.
    const unread = await outbound.open(pointer);
    unread!.release();
    expect((await outbound.load(pointer))?.mime.equals(mime)).toBe(true);
    await outbound.delete(pointer);
    expect(await outbound.open(pointer)).toBeUndefined();
  });

  it('refuses to open a stored frame under a pointer of another message', async () => {
    const pointer = await outbound.store({ ...envelope, messageId: 'msg-queue-0004' }, Buffer.from('x'), now);
    await expect(outbound.open({ ...pointer, messageId: 'msg-queue-0005' })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
  });

  it('keeps a delayed pointer invisible until its delay has passed', async () => {
    const pointer = await outbound.store({ ...envelope, messageId: 'msg-queue-0002' }, Buffer.from('x'), now);
    await outbound.enqueue(pointer, 60_000);
    const peek = await clients.queue.peekMessages({ numberOfMessages: 32 });
    expect(peek.peekedMessageItems.map((m) => parseQueuePointer(m.messageText).messageId)).not.toContain(
      'msg-queue-0002',
    );
  });

  it('rejects queue items that are not pointers', () => {
    expect(() => parseQueuePointer('not json')).toThrow(/not JSON/);
    expect(() => parseQueuePointer({ v: 1, siteId: 'hq' })).toThrow(/not a message pointer/);
  });
});
