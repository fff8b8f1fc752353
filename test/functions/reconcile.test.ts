import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { makeMessageStatusHandler } from '../../functions/http/message-status-handler';
import { bridgeInternetMessageId } from '../../functions/mime/internet-message-id';
import { makeSendQueuedHandler } from '../../functions/delivery/queued-delivery';
import { createStorageClients, type StorageClients } from '../../functions/state/storage-clients';
import { parseQueuePointer } from '../../functions/state/outbound-queue';
import {
  bodyOf,
  callDeepHealth,
  invocation,
  mimeMessage,
  postMessage,
  SENDER,
  SITE,
  startKit,
  statusRequest,
  type Kit,
} from './function-test-kit';

/**
 * Lost Graph answers are resolved by looking in Sent Items (docs/design/custody.md): the device always gets
 * 202, the cloud finds out, and a message is sent exactly once.
 */

async function kitWith(name: string, sandbox: Parameters<typeof startKit>[1] = {}) {
  const kit = await startKit(name, {
    ...sandbox,
    overrides: { mailer: { requestTimeoutMs: 1500 }, ...sandbox.overrides },
  });
  const clients = createStorageClients(kit.config.storage, {
    table: kit.config.stateTable,
    container: kit.config.blobContainer,
    queue: kit.config.queueName,
  });
  await clients.ensureCreated();
  return { kit, clients };
}

/** Takes the next pointer off the queue, visible or not yet (the test decides when time has passed). */
async function takePointer(clients: StorageClients): Promise<unknown> {
  for (let i = 0; i < 50; i++) {
    const [m] = (await clients.queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 }))
      .receivedMessageItems;
    if (m) {
      await clients.queue.deleteMessage(m.messageId, m.popReceipt);
      return JSON.parse(m.messageText) as unknown;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no pointer on the queue');
}

function trigger(kit: Kit, item: unknown) {
  const inv = invocation('sendQueued', { dequeueCount: 1 });
  return makeSendQueuedHandler(() => kit.services)(item, inv.context).then(() => inv);
}

const deliveries = (kit: Kit) =>
  kit.graph.requests().filter((r) => r.route === 'sendMail' || r.route === 'send');
const imid = (id: string) => bridgeInternetMessageId({ messageId: id, siteId: SITE }, SENDER);

describe('lost answers, with read access to Sent Items', () => {
  let kit: Kit;
  let clients: StorageClients;
  beforeAll(
    async () =>
      ({ kit, clients } = await kitWith('reconcile', { settings: { BRIDGE_SYNC_MAX_BYTES: '20000' } })),
  );
  afterAll(() => kit.close());
  beforeEach(async () => {
    kit.graph.clear();
    await clients.queue.clearMessages();
  });

  it('submits the bridge internetMessageId on the JSON path', async () => {
    const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'Id check' }) });
    expect(res.status).toBe(200);
    const sent = kit.graph.requests().find((r) => r.route === 'sendMail');
    expect(sent).toBeDefined();
    expect(kit.graph.sentCount(SENDER, imid(id))).toBe(1);
    // The device's own Message-ID (<scan-1@copier.local>, the same in every test message) is not used.
    expect(kit.graph.sentCount(SENDER, '<scan-1@copier.local>')).toBe(0);
  });

  it('answer lost after Graph carried the send out: 202 to the device, found in Sent Items, not sent again', async () => {
    kit.graph.inject({ route: 'sendMail', action: 'lose-answer' });
    const { id, res, body } = await postMessage(kit.services, {
      mime: mimeMessage({ subject: 'Lost answer' }),
    });
    expect(res.status).toBe(202);
    expect(body.state).toBe('queued');
    expect(body.lastError?.code).toBe('GRAPH_OUTCOME_UNKNOWN');
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'queued', phase: 'unknown' });

    const inv = await trigger(kit, await takePointer(clients));
    expect(deliveries(kit)).toHaveLength(1);
    expect(kit.graph.sentCount(SENDER, imid(id))).toBe(1);
    const record = await kit.services.store.get(SITE, id);
    expect(record).toMatchObject({ state: 'sent', reconciled: true });
    expect(record?.graphMessageId).toMatch(/^AAMkSent/);
    expect(inv.events().some((e) => e.event === 'MESSAGE_RECONCILED' && e.found === true)).toBe(true);
    const status = bodyOf(
      await makeMessageStatusHandler(() => kit.services)(
        statusRequest(id),
        invocation('messageStatus').context,
      ),
    );
    expect(status).toMatchObject({ state: 'sent', reconciled: true, graphMessageId: record?.graphMessageId });
  });

  it('Graph hangs without sending: 202, not found in Sent Items after the window, sent once', async () => {
    kit.graph.inject({ route: 'sendMail', action: 'hang' });
    const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'Hang' }) });
    expect(res.status).toBe(202);
    await trigger(kit, await takePointer(clients));
    expect(kit.graph.messages().map((m) => m.subject)).toEqual(['Hang']);
    expect(kit.graph.sentCount(SENDER, imid(id))).toBe(1);
    const record = await kit.services.store.get(SITE, id);
    expect(record).toMatchObject({ state: 'sent' });
    expect(record?.reconciled).toBeUndefined();
  });

  it('a 504 on sendMail is an unknown outcome too, and a 500 as well', async () => {
    for (const status of [504, 500]) {
      kit.graph.clear();
      kit.graph.inject({ route: 'sendMail', status, processFirst: true });
      const { id, res } = await postMessage(kit.services, {
        mime: mimeMessage({ subject: `Gateway ${status}` }),
      });
      expect(res.status).toBe(202);
      await trigger(kit, await takePointer(clients));
      expect(kit.graph.sentCount(SENDER, imid(id))).toBe(1);
      expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent', reconciled: true });
    }
  });

  it('a process killed between Graph accepting and the record (stale phase graph) is found, not re-sent', async () => {
    kit.graph.inject({ route: 'sendMail', action: 'lose-answer' });
    const { id } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'Killed' }) });
    const item = await takePointer(clients);
    // Rewind the record to what a killed attempt leaves: phase graph, written long ago, nothing more.
    const rec = (await kit.services.store.get(SITE, id))!;
    const old = new Date(Date.now() - 10 * 60_000);
    await kit.services.store.tryUpdate(rec, { phase: 'graph', unknownSince: undefined, error: null }, old);
    await trigger(kit, item);
    expect(deliveries(kit)).toHaveLength(1);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent', reconciled: true });
  });

  it('two instances taking the same queue message at once send it once', async () => {
    const { id, res } = await postMessage(kit.services, {
      mime: mimeMessage({ subject: 'Twice dequeued', bodyBytes: 30_000 }),
    });
    expect(res.status).toBe(202);
    const item = await takePointer(clients);
    await Promise.all([trigger(kit, item), trigger(kit, item)]);
    // The loser re-queued itself; let it run too, as the host would.
    const again = (await clients.queue.receiveMessages({ numberOfMessages: 5, visibilityTimeout: 30 }))
      .receivedMessageItems;
    for (const m of again) await trigger(kit, JSON.parse(m.messageText) as unknown);
    expect(kit.graph.sentCount(SENDER, imid(id))).toBe(1);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent' });
  });
});

describe('lost answers the bridge cannot look up', () => {
  it('read permission missing: held as GRAPH_OUTCOME_UNKNOWN with the hint, body kept, never re-sent', async () => {
    const { kit, clients } = await kitWith('reconcile-noread', {
      sandbox: { roles: ['Mail.Send', 'User.Read.All'] },
    });
    try {
      kit.graph.inject({ route: 'sendMail', action: 'lose-answer' });
      const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'No read' }) });
      expect(res.status).toBe(202);
      const item = await takePointer(clients);
      await trigger(kit, item);
      const record = await kit.services.store.get(SITE, id);
      expect(record).toMatchObject({ state: 'failed', errorCode: 'GRAPH_OUTCOME_UNKNOWN' });
      expect(record?.reason).toMatch(/Mail\.ReadBasic/);
      expect(record?.reason).toContain(imid(id));
      expect(deliveries(kit)).toHaveLength(1);
      const pointer = parseQueuePointer(item);
      expect(await kit.services.outbound.load(pointer)).toBeDefined();
      expect(await kit.services.outbound.tagsOf(pointer)).toEqual({ 'bridge-state': 'failed' });
      // Deep health says so beforehand, without failing (nothing is lost).
      const health = await callDeepHealth(() => kit.services);
      expect(health.body.graph[0]?.warnings).toContainEqual(
        expect.stringMatching(
          /^Mail\.ReadBasic: not granted for scanner@contoso\.com: .*GRAPH_OUTCOME_UNKNOWN/,
        ),
      );
    } finally {
      await kit.close();
    }
  });

  it('saveToSentItems off: held as GRAPH_OUTCOME_UNKNOWN without a look-up', async () => {
    const { kit, clients } = await kitWith('reconcile-nosave', {
      settings: { BRIDGE_SAVE_TO_SENT_ITEMS: 'false' },
    });
    try {
      kit.graph.inject({ route: 'sendMail', action: 'lose-answer' });
      const { id, res } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'No copy' }) });
      expect(res.status).toBe(202);
      await trigger(kit, await takePointer(clients));
      const record = await kit.services.store.get(SITE, id);
      expect(record).toMatchObject({ state: 'failed', errorCode: 'GRAPH_OUTCOME_UNKNOWN' });
      expect(record?.reason).toMatch(/BRIDGE_SAVE_TO_SENT_ITEMS/);
      expect(kit.graph.requests().some((r) => r.route === 'listMessages')).toBe(false);
      expect(deliveries(kit)).toHaveLength(1);
    } finally {
      await kit.close();
    }
  });
});

describe('lag: the copy shows in Sent Items only after a while', () => {
  it('does not send again while the window is open, and finds the copy once it appears', async () => {
    const { kit, clients } = await kitWith('reconcile-lag', {
      sandbox: { sentItemsLagMs: 1500 },
      overrides: { tuning: { sentItemsLagMs: 200, reconcileWindowMs: 10_000 } },
    });
    try {
      kit.graph.inject({ route: 'sendMail', action: 'lose-answer' });
      const { id } = await postMessage(kit.services, { mime: mimeMessage({ subject: 'Lagging' }) });
      for (let i = 0; i < 40; i++) {
        const record = await kit.services.store.get(SITE, id);
        if (record?.state !== 'queued') break;
        await trigger(kit, await takePointer(clients));
      }
      expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent', reconciled: true });
      expect(deliveries(kit)).toHaveLength(1);
      const lookups = kit.graph.requests().filter((r) => r.route === 'listMessages');
      expect(lookups.length).toBeGreaterThan(1); // it looked before the copy appeared, and again after
    } finally {
      await kit.close();
    }
  });
});

describe('every path carries the bridge internetMessageId to Graph', () => {
  it('the MIME path (S/MIME) replaces the Message-ID header; a lost answer there is found too', async () => {
    const { kit, clients } = await kitWith('reconcile-mime');
    try {
      const smime = Buffer.from(
        readFileSync(join(__dirname, '../fixtures/mime/smime-enveloped.eml'), 'latin1').replace(
          'scanner@site.example',
          SENDER,
        ),
        'latin1',
      );
      kit.graph.inject({ route: 'sendMail', action: 'lose-answer' });
      const { id, res } = await postMessage(kit.services, { mime: smime });
      expect(res.status).toBe(202);
      const [kept] = kit.graph.messages();
      expect(kept?.format).toBe('mime');
      const header = /^Message-ID:[ \t]*(.*)$/im.exec(kept!.mime!.toString('latin1'))?.[1]?.trim();
      expect(header).toBe(imid(id));
      await trigger(kit, await takePointer(clients));
      expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent', reconciled: true });
      expect(deliveries(kit)).toHaveLength(1);
    } finally {
      await kit.close();
    }
  });

  it('the draft path sets internetMessageId on the draft; a lost /send answer is found, the draft id recorded', async () => {
    const { kit, clients } = await kitWith('reconcile-draft', {
      overrides: { mailer: { requestTimeoutMs: 1500, maxRequestBytes: 20_000 } },
    });
    try {
      kit.graph.inject({ route: 'send', action: 'lose-answer' });
      const { id, res } = await postMessage(kit.services, {
        mime: mimeMessage({ subject: 'Large', bodyBytes: 40_000 }),
      });
      expect(res.status).toBe(202);
      expect(kit.graph.requests().some((r) => r.route === 'createMessage')).toBe(true);
      expect(kit.graph.sentCount(SENDER, imid(id))).toBe(1);
      await trigger(kit, await takePointer(clients));
      expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'sent', reconciled: true });
      expect(deliveries(kit)).toHaveLength(1);
    } finally {
      await kit.close();
    }
  });
});
