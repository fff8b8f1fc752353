import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { smtpTransport, startE2eEdge, type E2eEdge } from '../helpers/e2e-edge';
import { startFunctionStack, type FunctionStack } from '../helpers/e2e-function-stack';

/**
 * The adaptive reply hold (the shipped default, docs/design/reply-hold.md) against the real function host and
 * the Graph sandbox: a sender outside the site policy and a mailbox Exchange does not know show their 5xx on
 * the first try; a proven route is answered at commit and every message still reaches Graph exactly once.
 */
const RUN = randomBytes(3).toString('hex');
let stack: FunctionStack;
let edge: E2eEdge;

beforeAll(async () => {
  stack = await startFunctionStack('e2ehold', {
    settings: { BRIDGE_ALLOWED_SENDERS: '*@contoso.com' },
    sandbox: { mailboxes: ['scanner@contoso.com'] },
  });
  edge = await startE2eEdge(stack, { BRIDGE_REPLY_HOLD: 'adaptive' });
}, 60_000);

afterAll(async () => {
  await edge?.close();
  await stack?.close();
});

async function send(from: string, subject: string): Promise<{ code: number; text: string }> {
  try {
    const info = await smtpTransport(edge.smtpPort).sendMail({
      from,
      to: 'alice@fabrikam.com',
      subject,
      text: 'scan',
    });
    return { code: 250, text: info.response };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string };
    return { code: err.responseCode ?? 0, text: err.response ?? '' };
  }
}

function why(id: string): unknown {
  return edge.lines.find((l) => l.event === 'SPOOL_STORED' && l.mid === id)?.why;
}

describe('adaptive reply hold through the real function to the Graph sandbox', () => {
  it('shows a sender outside the site policy its 5xx on the first try', async () => {
    const r = await send('someone@fabrikam.com', `outsider ${RUN}`);
    expect(r.code).toBe(550);
    expect(r.text).toContain('SENDER_NOT_ALLOWED');
  });

  it('shows a mailbox Exchange does not know its 5xx on the first try', async () => {
    const r = await send('ghost@contoso.com', `ghost ${RUN}`);
    expect(r.code).toBeGreaterThanOrEqual(500);
    expect(r.text).toContain('GRAPH_MAILBOX_NOT_FOUND');
  });

  it('answers a proven route at commit, and each message reaches Graph exactly once', async () => {
    const first = await send('scanner@contoso.com', `proof ${RUN}`);
    expect(first.text).toMatch(/sent as \S+$/);
    expect(why(idFromReply(first.text))).toBe('route-new');
    const subjects = [1, 2, 3].map((i) => `proven ${i} ${RUN}`);
    const replies = [];
    for (const s of subjects) replies.push(await send('scanner@contoso.com', s));
    for (const r of replies) {
      expect(r.text).toMatch(/^250 2\.0\.0 Ok: queued as \S+$/);
      expect(why(idFromReply(r.text))).toBe('route-proven');
    }
    await vi.waitFor(
      () => {
        for (const s of subjects)
          expect(stack.graph.messages().filter((m) => m.subject === s)).toHaveLength(1);
      },
      { timeout: 20_000, interval: 100 },
    );
    for (const r of replies)
      await vi.waitFor(
        async () => expect((await edge.listener.spool.get(idFromReply(r.text)))?.state).toBe('done'),
        10_000,
      );
  });
});
