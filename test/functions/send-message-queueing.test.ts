import { afterEach, describe, expect, it } from 'vitest';

import { makeSendMessageHandler } from '../../functions/http/send-message-handler';
import {
  bodyOf,
  envelopeFor,
  frame,
  invocation,
  mimeMessage,
  newMessageId,
  postRequest,
  SITE,
  startKit,
  type Kit,
} from './function-test-kit';

let kit: Kit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

async function post(k: Kit) {
  const id = newMessageId();
  const res = await makeSendMessageHandler(() => k.services)(
    postRequest(frame(envelopeFor(id), mimeMessage()), id),
    invocation().context,
  );
  return { id, status: res.status, body: bodyOf(res) };
}

describe('when the HTTP path queues instead of sending', () => {
  it('queues a small message once its mailbox has used its per-minute budget (shared with the queue trigger)', async () => {
    kit = await startKit('ratehttp', { settings: { BRIDGE_MAILBOX_PER_MINUTE: '1' } });
    const first = await post(kit);
    const second = await post(kit);
    expect(first.status).toBe(200);
    expect(second.status).toBe(202);
    expect(second.body.state).toBe('queued');
    expect(kit.graph.messages()).toHaveLength(1);
    expect(await kit.services.store.get(SITE, second.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('queues every message when the sync budget is zero', async () => {
    kit = await startKit('budget', { settings: { BRIDGE_SYNC_BUDGET_MS: '0' } });
    const { status } = await post(kit);
    expect(status).toBe(202);
    expect(kit.graph.messages()).toHaveLength(0);
  });

  it('answers 503 CONFIG_INVALID and keeps the id usable when no Graph credential is configured', async () => {
    kit = await startKit('nocred', { settings: { AZURE_CLIENT_SECRET: '' } });
    const { id, status, body } = await post(kit);
    expect(status).toBe(503);
    expect(body.error).toMatchObject({ code: 'CONFIG_INVALID', retryable: true });
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'received', phase: 'released' });
  });
});
