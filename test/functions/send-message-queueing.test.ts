import { afterEach, describe, expect, it } from 'vitest';

import { postMessage, SITE, startKit, type Kit } from './function-test-kit';

let kit: Kit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

describe('when the HTTP path queues instead of sending', () => {
  it('queues a small message once its mailbox has used its per-minute budget (shared with the queue trigger)', async () => {
    kit = await startKit('ratehttp', { settings: { BRIDGE_MAILBOX_PER_MINUTE: '1' } });
    const first = await postMessage(kit.services);
    const second = await postMessage(kit.services);
    expect(first.res.status).toBe(200);
    expect(second.res.status).toBe(202);
    expect(second.body.state).toBe('queued');
    expect(kit.graph.messages()).toHaveLength(1);
    expect(await kit.services.store.get(SITE, second.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('queues every message when the sync budget is zero', async () => {
    kit = await startKit('budget', { settings: { BRIDGE_SYNC_BUDGET_MS: '0' } });
    const { res } = await postMessage(kit.services);
    expect(res.status).toBe(202);
    expect(kit.graph.messages()).toHaveLength(0);
  });

  it('answers 503 CONFIG_INVALID and keeps the id usable when no Graph credential is configured', async () => {
    kit = await startKit('nocred', { settings: { AZURE_CLIENT_SECRET: '' } });
    const { id, res, body } = await postMessage(kit.services);
    expect(res.status).toBe(503);
    expect(body.error).toMatchObject({ code: 'CONFIG_INVALID', retryable: true });
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'received', phase: 'released' });
  });
});
