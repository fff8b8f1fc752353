import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { memoryLogger } from '../../core/log';
import { QueueAdmin } from '../../edge-listener/admin/queue-admin';
import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { smtpTransport, startE2eEdge, type E2eEdge } from '../helpers/e2e-edge';
import { startFunctionStack, type FunctionStack } from '../helpers/e2e-function-stack';

/**
 * The edge keeps custody until the cloud confirms (issue 9, docs/design/custody-edge.md), with all real
 * parts: the edge in-process, the local function host on Azurite with its queue trigger, the Graph sandbox
 * with its fault queue. Graph answers the function's inline attempt with 503, so the function queues the
 * message (202); the edge keeps the body, reads the cloud state with the signed GET and finishes the entry
 * only when the cloud says sent — or, when the cloud fails it, holds it failed-by-function WITH its body,
 * resubmittable with one action.
 */
const RUN = randomBytes(3).toString('hex');
let cloud: FunctionStack;
let edge: E2eEdge;

beforeAll(async () => {
  cloud = await startFunctionStack('cloud-custody');
  edge = await startE2eEdge(cloud, { BRIDGE_FORWARD_BUDGET_MS: '5s' });
}, 90_000);

afterAll(async () => {
  await edge?.close();
  await cloud?.close();
});

async function send(subject: string, from = 'scanner@contoso.com') {
  const info = await smtpTransport(edge.smtpPort).sendMail({
    from,
    to: `custody-${RUN}@fabrikam.com`,
    subject,
    text: `body of ${subject}`,
  });
  return { reply: info.response, id: idFromReply(info.response) };
}

const kept = (subject: string) => cloud.graph.messages().filter((m) => m.subject === subject);

describe('custody after the function queued the message (202)', () => {
  it('keeps the body while the cloud holds it, and finishes only when the cloud says sent (delivered once)', async () => {
    const subject = `Queued then sent ${RUN}`;
    cloud.graph.inject({ route: 'sendMail', status: 503, retryAfterSec: 1 });
    const { reply, id } = await send(subject);
    expect(reply).toMatch(/^250 .*queued as/);
    // Not dropped at the 202: queued in the cloud, body kept here, until the cloud's word.
    const held = await edge.listener.spool.get(id);
    expect(held).toMatchObject({ state: 'cloud', cloud: { checks: 0 } });
    expect(await text(edge.listener.spool.openMessage(id)!)).toContain(`body of ${subject}`);
    const done = await vi.waitFor(
      async () => {
        const e = await edge.listener.spool.get(id);
        expect(e?.state).toBe('done');
        return e;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(done).toMatchObject({ state: 'done', outcome: 'sent', result: { id, state: 'sent' } });
    expect(kept(subject)).toHaveLength(1);
    // The spool records the outcome before the edge logs it, so the line can trail the state by a tick.
    await vi.waitFor(() =>
      expect(
        edge.lines.filter((l) => l.event === 'MESSAGE_SENT' && l.mid === id && l.via === 'cloud'),
      ).toHaveLength(1),
    );
  });

  it('a cloud failure becomes failed-by-function on the edge with the body, and one retry resubmits it', async () => {
    const subject = `Queued then failed ${RUN}`;
    cloud.graph.inject({ route: 'sendMail', status: 503, retryAfterSec: 1 });
    cloud.graph.inject({ route: 'sendMail', status: 400, code: 'ErrorInvalidRecipients' });
    const { reply, id } = await send(subject);
    expect(reply).toMatch(/^250 /); // the device was told accepted: the edge must keep it
    const failed = await vi.waitFor(
      async () => {
        const e = await edge.listener.spool.get(id);
        expect(e?.state).toBe('failed');
        return e;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(failed).toMatchObject({
      state: 'failed',
      failedBy: 'function',
      lastError: { code: 'GRAPH_INVALID_RECIPIENTS' },
    });
    expect(await text(edge.listener.spool.openMessage(id)!)).toContain(`body of ${subject}`);
    expect(kept(subject)).toHaveLength(0);

    const admin = new QueueAdmin(edge.listener.spool, memoryLogger());
    const retried = await admin.retry(id, { via: 'cli-direct' });
    expect(retried).toMatchObject({ status: 'done', entries: [{ id, submissionId: `${id}.r1` }] });
    const done = await vi.waitFor(
      async () => {
        const e = await edge.listener.spool.get(id);
        expect(e?.state).toBe('done');
        return e;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(done).toMatchObject({ outcome: 'sent', submissionId: `${id}.r1` });
    expect(kept(subject)).toHaveLength(1);
  });
});

describe('an unknown outcome is not a rejection', () => {
  it('the device gets 250 when Graph carried the send out but its answer was lost; the message exists once and the edge keeps it until it knows', async () => {
    const subject = `Answer lost ${RUN}`;
    // Graph keeps the message, then drops the connection without answering (the "answer lost" fault).
    cloud.graph.inject({ route: 'sendMail', action: 'drop', processFirst: true });
    const { reply, id } = await send(subject);
    expect(reply).toMatch(/^250 /);
    expect(kept(subject)).toHaveLength(1);
    const settled = await vi.waitFor(
      async () => {
        const e = await edge.listener.spool.get(id);
        expect(['done', 'failed']).toContain(e?.state);
        return e;
      },
      { timeout: 30_000, interval: 100 },
    );
    // The function looked in the sender's Sent Items, found the copy: sent, reconciled, and not sent again.
    expect(settled).toMatchObject({
      state: 'done',
      outcome: 'sent',
      result: { state: 'sent', reconciled: true },
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(kept(subject)).toHaveLength(1);
  });
});
