import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';

/**
 * Admin resubmission against a scripted function: the function dedupes on the id it is posted under, so a
 * message it failed for good goes out again only under `<spoolId>.r<n>` — bumped by an admin retry, never
 * by the forwarder's own retries. The reply budget is 0, so the device gets its 250 before any answer.
 */
let fn: FakeFunction;
let edge: TestEdge;

beforeAll(async () => {
  fn = await FakeFunction.start();
  edge = await startTestEdge(fn, { BRIDGE_FORWARD_BUDGET_MS: '0', BRIDGE_RETRY_SCHEDULE: '200ms,400ms' });
});
afterAll(async () => {
  await edge?.cleanup();
  await fn?.close();
});

async function send(subject: string): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: edge.listener.smtpPort, ignoreTLS: true });
  const info = await t.sendMail({ from: 'scan@example.com', to: 'b@example.org', subject, text: 'x' });
  return idFromReply(info.response);
}

/** The status page's retry action, as the page posts it (loopback is an admin address by default). */
async function pageRetry(id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${edge.listener.httpPort}/status/api/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const state = async (id: string) => (await edge.listener.spool.get(id))?.state;

describe('admin resubmission of a message the function failed', () => {
  it('posts an admin retry of a function-failed entry under <id>.r1, then .r2, and logs each retry once', async () => {
    const posted: string[] = [];
    fn.script = (r) => {
      posted.push(r.id);
      return r.id.endsWith('.r2')
        ? { kind: 'sent' }
        : { kind: 'reject', code: 'SENDER_NOT_ALLOWED', detail: 'scan@example.com' };
    };
    const id = await send('resubmit');
    await vi.waitFor(async () => expect(await state(id)).toBe('failed'), 10_000);
    expect(await edge.listener.spool.get(id)).toMatchObject({
      submissionId: id,
      lastError: { code: 'SENDER_NOT_ALLOWED' },
    });

    const first = await pageRetry(id);
    expect(first).toEqual({ status: 200, body: { retried: id, submissionId: `${id}.r1`, state: 'queued' } });
    await vi.waitFor(async () => {
      expect(await state(id)).toBe('failed');
      expect(posted).toHaveLength(2);
    }, 10_000);
    expect(await edge.listener.spool.get(id)).toMatchObject({ submissionId: `${id}.r1` });

    expect((await pageRetry(id)).body).toMatchObject({ submissionId: `${id}.r2` });
    await vi.waitFor(async () => expect(await state(id)).toBe('done'), 10_000);
    expect(posted).toEqual([id, `${id}.r1`, `${id}.r2`]);
    // the envelope the function got names the submission id; the done record keeps it for the cloud read-back
    expect(fn.byId(`${id}.r2`)[0]?.envelope.messageId).toBe(`${id}.r2`);
    expect(await edge.listener.spool.get(id)).toMatchObject({
      state: 'done',
      outcome: 'sent',
      submissionId: `${id}.r2`,
      result: { id: `${id}.r2` },
    });
    const logged = edge.lines.filter((l) => l.event === 'ADMIN_ACTION' && l.mid === id);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({
      via: 'status-page',
      action: 'retry',
      outcome: 'done',
      resubmitted: [`${id}.r2`],
    });
  });

  it('keeps the submission id through automatic retries and through an admin retry of a waiting message', async () => {
    let answers = 0;
    fn.script = () =>
      ++answers <= 3 ? { kind: 'retry', status: 503, code: 'GRAPH_UNAVAILABLE' } : { kind: 'sent' };
    const id = await send('automatic');
    await vi.waitFor(() => expect(fn.byId(id).length).toBeGreaterThanOrEqual(2), 10_000);
    expect(await edge.listener.spool.get(id)).toMatchObject({ state: 'deferred', submissionId: id });
    const r = await pageRetry(id).then(
      (x) => x,
      () => undefined,
    );
    // a POST may be running at this moment (409 busy); either way the id must not move
    if (r?.status === 200) expect(r.body.submissionId).toBe(id);
    await vi.waitFor(async () => expect(await state(id)).toBe('done'), 10_000);
    expect(fn.received.filter((x) => x.id.startsWith(id)).map((x) => x.id)).toEqual(Array(4).fill(id));
    expect(await edge.listener.spool.get(id)).toMatchObject({ submissionId: id, attempts: 4 });
  });
});
