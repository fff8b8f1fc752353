import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { bridgeInternetMessageId } from '../../functions/mime/internet-message-id';
import { makeSendQueuedHandler } from '../../functions/delivery/queued-delivery';
import type { SandboxFault } from '../../dev/graph-sandbox/options';
import { createStorageClients, type StorageClients } from '../../functions/state/storage-clients';
import { invocation, mimeMessage, postMessage, SENDER, SITE, startKit, type Kit } from './function-test-kit';

/**
 * Transient is transient for days (docs/design/custody.md "The horizon"): outages that last hours end with
 * the message delivered once, not expired after a fixed number of attempts. A test clock (services.now)
 * moves 20 minutes per attempt; the real queue delays are tuned down to the queue's 1-second granularity.
 */
const STEP_MS = 20 * 60_000;

let kit: Kit;
let clients: StorageClients;
let clockMs = 0;

beforeAll(async () => {
  kit = await startKit('outage', {
    overrides: { tuning: { maxRetryIntervalMs: 50, queueRetryDelaysMs: [50] } },
  });
  clients = createStorageClients(kit.config.storage, {
    table: kit.config.stateTable,
    container: kit.config.blobContainer,
    queue: kit.config.queueName,
  });
  await clients.ensureCreated();
  kit.services.now = () => new Date(clockMs);
});
afterAll(() => kit.close());
beforeEach(async () => {
  kit.graph.clear();
  await clients.queue.clearMessages();
  clockMs = Date.now();
});

async function takePointer(): Promise<unknown> {
  for (let i = 0; i < 100; i++) {
    const [m] = (await clients.queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 }))
      .receivedMessageItems;
    if (m) {
      await clients.queue.deleteMessage(m.messageId, m.popReceipt);
      return JSON.parse(m.messageText) as unknown;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no pointer on the queue');
}

/** Runs the queue until the message leaves 'queued', failing every attempt during the first `outageMs`. */
async function runThrough(id: string, outageMs: number, fault: SandboxFault) {
  const startMs = clockMs;
  const states: string[] = [];
  for (let i = 0; i < 100; i++) {
    const record = await kit.services.store.get(SITE, id);
    if (record?.state !== 'queued') break;
    states.push(record.state);
    if (clockMs - startMs < outageMs) kit.graph.inject(fault);
    const inv = invocation('sendQueued', { dequeueCount: 1 });
    await makeSendQueuedHandler(() => kit.services)(await takePointer(), inv.context);
    clockMs += STEP_MS;
  }
  return states;
}

describe('retries for hours, up to the horizon', () => {
  it('a 3-hour Graph outage (503): delivered once at the end, nothing expired', async () => {
    kit.graph.inject({ route: 'sendMail', status: 503, times: 1 });
    const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'Outage' }) });
    expect(res.status).toBe(202);
    const states = await runThrough(id, 3 * 3600_000, { route: 'sendMail', status: 503, times: 1 });
    const record = await kit.services.store.get(SITE, id);
    expect(record).toMatchObject({ state: 'sent' });
    expect(record!.attempts).toBeGreaterThanOrEqual(9); // past the old limit of 8 attempts
    expect(states.every((s) => s === 'queued')).toBe(true);
    expect(
      kit.graph.sentCount(SENDER, bridgeInternetMessageId({ messageId: id, siteId: SITE }, SENDER)),
    ).toBe(1);
    expect(kit.graph.messages()).toHaveLength(1);
  });

  it('a 2-hour RBAC propagation delay (403 ErrorAccessDenied): delivered once when the scope applies', async () => {
    const denied: SandboxFault = {
      route: 'sendMail',
      status: 403,
      code: 'ErrorAccessDenied',
      message: 'Access to OData is disabled.',
      times: 1,
    };
    kit.graph.inject(denied);
    const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'RBAC' }) });
    expect(res.status).toBe(202);
    await runThrough(id, 2 * 3600_000, denied);
    const record = await kit.services.store.get(SITE, id);
    expect(record).toMatchObject({ state: 'sent' });
    expect(record!.attempts).toBeGreaterThanOrEqual(6);
    expect(kit.graph.messages()).toHaveLength(1);
    const statuses = kit.graph
      .requests()
      .filter((r) => r.route === 'sendMail')
      .map((r) => r.status);
    expect(statuses.filter((s) => s === 403).length).toBeGreaterThanOrEqual(6);
    expect(statuses.at(-1)).toBe(202);
  });
});
