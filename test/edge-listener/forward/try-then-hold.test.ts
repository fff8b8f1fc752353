import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { FakeFunction, type Plan } from '../../helpers/fake-function';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';

/**
 * The forwarder against a scripted function: what the copier is told, what the spool keeps, and how it
 * retries. Retry waits are 200 ms / 400 ms here (BRIDGE_RETRY_SCHEDULE) and the reply budget 1 s.
 */
let fn: FakeFunction;
let edge: TestEdge;

beforeAll(async () => {
  fn = await FakeFunction.start();
  edge = await startTestEdge(fn, { BRIDGE_FORWARD_BUDGET_MS: '1s', BRIDGE_FORWARD_TIMEOUT_MS: '3s' });
});
afterEach(() => {
  fn.script = () => ({ kind: 'sent' });
});
afterAll(async () => {
  await edge?.cleanup();
  await fn?.close();
});

async function send(subject: string): Promise<{ code: number; text: string }> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: edge.listener.smtpPort, ignoreTLS: true });
  try {
    const info = await t.sendMail({ from: 'scan@example.com', to: 'b@example.org', subject, text: 'x' });
    return { code: 250, text: info.response };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string };
    return { code: err.responseCode ?? 0, text: err.response ?? '' };
  }
}

/** Plays `plans` in order for the requests of one message, then `sent`. */
function sequence(...plans: Plan[]): (r: { seq: number }) => Plan {
  return (r) => plans[r.seq - 1] ?? { kind: 'sent' };
}

describe('try, then hold', () => {
  it('shows a definite rejection on the device as the function’s 5xx with its code, and keeps only a record', async () => {
    fn.script = () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED', detail: 'scan@example.com' });
    const r = await send('rejected');
    expect(r.code).toBe(550);
    expect(r.text).toMatch(
      /^550 5\.7\.1 SENDER_NOT_ALLOWED Sender not allowed: scan@example\.com \(id \S+\)$/,
    );
    const id = /\(id (\S+)\)/.exec(r.text)![1]!;
    expect(await edge.listener.spool.get(id)).toMatchObject({ state: 'done', outcome: 'rejected' });
  });

  it('answers 250 at once on a 503, retries after Retry-After, and delivers', async () => {
    fn.script = sequence({ kind: 'retry', status: 503, code: 'GRAPH_UNAVAILABLE', retryAfter: '1' });
    const patient = await startTestEdge(fn, { BRIDGE_FORWARD_BUDGET_MS: '30s' });
    const started = Date.now();
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: patient.listener.smtpPort,
      ignoreTLS: true,
    });
    const info = await t.sendMail({
      from: 'scan@example.com',
      to: 'b@example.org',
      subject: 'retry-after',
      text: 'x',
    });
    // A 30 s budget would still be running had the listener waited for it instead of answering on the 503.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(info.response).toMatch(/queued as/);
    const id = idFromReply(info.response);
    const entry = await patient.listener.spool.get(id);
    expect(entry).toMatchObject({ state: 'deferred', attempts: 1, lastError: { code: 'GRAPH_UNAVAILABLE' } });
    // Retry-After (1 s) beats the 200 ms table entry
    expect(Date.parse(entry!.nextAttemptAt!) - Date.parse(entry!.lastAttemptAt!)).toBeGreaterThanOrEqual(
      1000,
    );
    await fn.waitFor(() => fn.byId(id).length === 2, 5000);
    await vi.waitFor(async () => expect((await patient.listener.spool.get(id))?.state).toBe('done'), 5000);
    expect((await patient.listener.spool.get(id))?.attempts).toBe(2);
    await patient.cleanup();
  });

  it('answers 250 when the function is slower than the budget, and the late answer still completes the message', async () => {
    fn.script = () => ({ kind: 'delay', ms: 1500, then: { kind: 'sent' } });
    const r = await send('slow');
    expect(r.text).toMatch(/queued as/);
    const id = idFromReply(r.text);
    await waitState(id, 'done');
    expect(fn.byId(id)).toHaveLength(1);
  });

  it('keeps the message as failed when the rejection comes after the client got its 250', async () => {
    fn.script = () => ({
      kind: 'delay',
      ms: 1300,
      then: { kind: 'reject', code: 'GRAPH_MAILBOX_NOT_FOUND' },
    });
    const r = await send('late reject');
    expect(r.code).toBe(250);
    const id = idFromReply(r.text);
    await waitState(id, 'failed');
    const entry = await edge.listener.spool.get(id);
    expect(entry).toMatchObject({ state: 'failed', lastError: { code: 'GRAPH_MAILBOX_NOT_FOUND' } });
    expect(edge.listener.spool.openMessage(id)).toBeDefined();
  });

  it.each<[string, Plan, string]>([
    ['a timeout (no answer)', { kind: 'hang' }, 'FUNCTION_UNREACHABLE'],
    [
      'a 401 from the host (wrong key)',
      { kind: 'raw', status: 401, body: 'Unauthorized' },
      'FUNCTION_UNREACHABLE',
    ],
    ['a proxy login page', { kind: 'raw', status: 200, body: '<html>login</html>' }, 'FUNCTION_BAD_RESPONSE'],
    [
      'a 422 for another id',
      {
        kind: 'raw',
        status: 422,
        contentType: 'application/json',
        body: JSON.stringify({
          id: 'other-id-123',
          state: 'failed',
          error: { code: 'GRAPH_REJECTED', retryable: false },
        }),
      },
      'FUNCTION_BAD_RESPONSE',
    ],
    [
      'a 401 whose body claims a permanent error',
      { kind: 'reject', code: 'GRAPH_REJECTED', status: 401 },
      'FUNCTION_BAD_RESPONSE',
    ],
  ])('never fails a message on %s: it stays and is delivered on retry', async (_name, plan, code) => {
    fn.script = sequence(plan);
    const r = await send(`ambiguous ${code}`);
    expect(r.code).toBe(250);
    const id = idFromReply(r.text);
    await fn.waitFor(() => fn.byId(id).length >= 1);
    await vi.waitFor(async () => {
      const entry = await edge.listener.spool.get(id);
      expect(entry?.lastError?.code === code || entry?.state === 'done').toBe(true);
    }, 5000);
    await waitState(id, 'done', 8000);
    expect(edge.lines.some((l) => l.event === 'MESSAGE_DEFERRED' && l.mid === id && l.code === code)).toBe(
      true,
    );
  });

  it('fails a message with MESSAGE_EXPIRED once it is older than the maximum queue age', async () => {
    const short = await startTestEdge(fn, {
      BRIDGE_MAX_QUEUE_AGE_MS: '600ms',
      BRIDGE_FORWARD_BUDGET_MS: '100ms',
    });
    try {
      fn.script = () => ({ kind: 'retry', status: 503 });
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: short.listener.smtpPort,
        ignoreTLS: true,
      });
      const id = idFromReply(
        (await t.sendMail({ from: 'a@example.com', to: 'b@example.org', subject: 'expire', text: 'x' }))
          .response,
      );
      await vi.waitFor(async () => expect((await short.listener.spool.get(id))?.state).toBe('failed'), 5000);
      const entry = await short.listener.spool.get(id);
      expect(entry?.lastError).toMatchObject({ code: 'MESSAGE_EXPIRED', smtp: { reply: 554 } });
      expect(entry?.lastError?.detail).toContain('FUNCTION_UNREACHABLE');
      expect(fn.byId(id).length).toBeGreaterThanOrEqual(2);
    } finally {
      await short.cleanup();
    }
  });

  it('keeps at most BRIDGE_FORWARD_CONCURRENCY POSTs in flight', async () => {
    const narrow = await startTestEdge(fn, {
      BRIDGE_FORWARD_CONCURRENCY: '2',
      BRIDGE_FORWARD_BUDGET_MS: '50ms',
    });
    try {
      fn.maxActive = 0;
      fn.script = () => ({ kind: 'delay', ms: 150, then: { kind: 'sent' } });
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: narrow.listener.smtpPort,
        ignoreTLS: true,
        pool: true,
        maxConnections: 6,
      });
      const ids = await Promise.all(
        Array.from({ length: 12 }, async (_, i) =>
          idFromReply(
            (await t.sendMail({ from: 'a@example.com', to: 'b@example.org', subject: `c${i}`, text: 'x' }))
              .response,
          ),
        ),
      );
      t.close();
      await fn.waitFor(() => ids.every((id) => fn.byId(id).length > 0), 10_000);
      expect(fn.maxActive).toBeLessThanOrEqual(2);
    } finally {
      await narrow.cleanup();
    }
  });
});

describe('restart and shutdown', () => {
  it('a restart resumes waiting messages from disk and delivers them', async () => {
    fn.script = () => ({ kind: 'retry', status: 503 });
    const e = await startTestEdge(fn, { BRIDGE_FORWARD_BUDGET_MS: '100ms', BRIDGE_RETRY_SCHEDULE: '1h' });
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: e.listener.smtpPort, ignoreTLS: true });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        idFromReply(
          (await t.sendMail({ from: 'a@example.com', to: 'b@example.org', subject: `r${i}`, text: 'x' }))
            .response,
        ),
      );
    await e.stop();
    fn.script = () => ({ kind: 'sent' });
    const again = await e.restart({ BRIDGE_RETRY_SCHEDULE: '1h' });
    try {
      expect(again.listener.spool.stats().depth.deferred).toBe(3);
      for (const id of ids) await again.listener.spool.retry(id);
      await fn.waitFor(() => ids.every((id) => fn.byId(id).some((r) => r.seq === 2)));
      await vi.waitFor(() => expect(again.listener.spool.stats().depth.deferred).toBe(0), 3000);
    } finally {
      await again.cleanup();
    }
  });

  it('graceful shutdown lets a POST in flight finish', async () => {
    const e = await startTestEdge(fn, { BRIDGE_FORWARD_BUDGET_MS: '50ms' });
    fn.script = () => ({ kind: 'delay', ms: 400, then: { kind: 'sent' } });
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: e.listener.smtpPort, ignoreTLS: true });
    const id = idFromReply(
      (await t.sendMail({ from: 'a@example.com', to: 'b@example.org', subject: 'drain', text: 'x' }))
        .response,
    );
    await e.stop();
    const again = await e.restart();
    try {
      expect(await again.listener.spool.get(id)).toMatchObject({ state: 'done', outcome: 'sent' });
    } finally {
      await again.cleanup();
    }
  });
});

async function waitState(id: string, state: string, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(async () => expect((await edge.listener.spool.get(id))?.state).toBe(state), {
    timeout: timeoutMs,
    interval: 20,
  });
}

describe('forwarding on the main thread (BRIDGE_FORWARD_THREAD=false)', () => {
  it('tells the device the same outcomes as the threaded default: sent, and a definite rejection', async () => {
    const single = await startTestEdge(fn, {
      BRIDGE_FORWARD_THREAD: 'false',
      BRIDGE_FORWARD_BUDGET_MS: '5s',
    });
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: single.listener.smtpPort,
      ignoreTLS: true,
    });
    try {
      const sent = await t.sendMail({
        from: 'scan@example.com',
        to: 'b@example.org',
        subject: 'one thread',
        text: 'x',
      });
      expect(sent.response).toMatch(/^250 2\.0\.0 Ok: sent as \S+$/);
      expect(fn.ids()).toContain(idFromReply(sent.response));
      fn.script = () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED', detail: 'scan@example.com' });
      const refused = await t
        .sendMail({ from: 'scan@example.com', to: 'b@example.org', subject: 'refused', text: 'x' })
        .catch((e: { responseCode?: number; response?: string }) => e);
      expect(refused).toMatchObject({ responseCode: 550 });
      expect((refused as { response: string }).response).toContain('SENDER_NOT_ALLOWED');
    } finally {
      t.close();
      await single.cleanup();
    }
  });
});
