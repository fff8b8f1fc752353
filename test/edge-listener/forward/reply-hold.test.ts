import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { FakeFunction } from '../../helpers/fake-function';
import { serverReplies, spoolIdFromTranscript, swaks } from '../../helpers/swaks';
import { describeWithTool } from '../../helpers/tool-groups';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';

/**
 * The adaptive reply hold (BRIDGE_REPLY_HOLD=adaptive, the default; docs/design/reply-hold.md) with real
 * SMTP clients against the real listener and a scripted function: what each device is told, and when.
 * Devices are told apart by their address: nodemailer connects from 127.0.0.x (localAddress), which the
 * default client list (127.0.0.0/8) admits.
 */
let fn: FakeFunction;
const edges: TestEdge[] = [];

beforeAll(async () => {
  fn = await FakeFunction.start();
});
afterEach(async () => {
  fn.script = () => ({ kind: 'sent' });
  await Promise.all(edges.splice(0).map((e) => e.cleanup()));
});
afterAll(async () => {
  await fn?.close();
});

/** A listener with the shipped default policy (the test helpers otherwise hold every reply). */
async function adaptiveEdge(extra: Record<string, string> = {}): Promise<TestEdge> {
  const edge = await startTestEdge(fn, {
    BRIDGE_REPLY_HOLD: undefined,
    BRIDGE_FORWARD_BUDGET_MS: '10s',
    BRIDGE_FORWARD_TIMEOUT_MS: '20s',
    ...extra,
  });
  edges.push(edge);
  return edge;
}

interface Sent {
  code: number;
  text: string;
  /** ms from the start of the SMTP transaction to its reply. */
  ms: number;
}

async function send(
  edge: TestEdge,
  o: { subject: string; from?: string; envelopeFrom?: string; device?: string },
): Promise<Sent> {
  const t = nodemailer.createTransport({
    host: '127.0.0.1',
    port: edge.listener.smtpPort,
    ignoreTLS: true,
    localAddress: o.device ?? '127.0.0.1',
  });
  const from = o.from ?? 'scan@example.com';
  const started = Date.now();
  try {
    const info = await t.sendMail({
      from,
      to: 'b@example.org',
      subject: o.subject,
      text: 'scan',
      envelope: { from: o.envelopeFrom ?? from, to: ['b@example.org'] },
    });
    return { code: 250, text: info.response, ms: Date.now() - started };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string };
    return { code: err.responseCode ?? 0, text: err.response ?? '', ms: Date.now() - started };
  } finally {
    t.close();
  }
}

/** The SPOOL_STORED line of a message: the decision and its reason. */
function decision(edge: TestEdge, id: string): { reply: unknown; why: unknown } | undefined {
  const line = edge.lines.find((l) => l.event === 'SPOOL_STORED' && l.mid === id);
  return line && { reply: line.reply, why: line.why };
}

async function state(edge: TestEdge, id: string): Promise<string | undefined> {
  return (await edge.listener.spool.get(id))?.state;
}

async function waitState(edge: TestEdge, id: string, want: string, timeoutMs = 10_000): Promise<void> {
  await vi.waitFor(async () => expect(await state(edge, id)).toBe(want), {
    timeout: timeoutMs,
    interval: 20,
  });
}

/** A message the route is proven by: held (new route), sent by the function, "sent as" on the device. */
async function prove(edge: TestEdge, o: { from?: string; device?: string } = {}): Promise<string> {
  fn.script = () => ({ kind: 'sent' });
  const r = await send(edge, { subject: 'first of the route', ...o });
  expect(r.text).toMatch(/^250 2\.0\.0 Ok: sent as \S+$/);
  const id = idFromReply(r.text);
  expect(decision(edge, id)).toEqual({ reply: 'held', why: 'route-new' });
  return id;
}

describe('adaptive reply hold: the first message of a route waits for the function', () => {
  it('shows a misconfigured sender’s 5xx on the device on the FIRST try', async () => {
    const edge = await adaptiveEdge();
    fn.script = () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED', detail: 'scan@example.com' });
    const r = await send(edge, { subject: 'not allowed' });
    expect(r.code).toBe(550);
    expect(r.text).toMatch(/^550 5\.7\.1 SENDER_NOT_ALLOWED .*\(id \S+\)$/);
    const id = /\(id (\S+)\)/.exec(r.text)![1]!;
    expect(decision(edge, id)).toEqual({ reply: 'held', why: 'route-new' });
    // The device owns the failure: only a record stays, and the next try of that route is held too.
    expect(await edge.listener.spool.get(id)).toMatchObject({ state: 'done', outcome: 'rejected' });
    const again = await send(edge, { subject: 'not allowed, again' });
    expect(again.code).toBe(550);
    expect(decision(edge, /\(id (\S+)\)/.exec(again.text)![1]!)).toEqual({
      reply: 'held',
      why: 'route-failed',
    });
  });

  it('shows a missing mailbox on the first try of each From, even when the envelope sender is proven', async () => {
    const edge = await adaptiveEdge();
    // A copier with one MAIL FROM for everybody: the From header names the mailbox that sends.
    await prove(edge, { from: 'alice@example.com' });
    fn.script = () => ({ kind: 'reject', code: 'GRAPH_MAILBOX_NOT_FOUND', detail: 'nobody@example.com' });
    const r = await send(edge, {
      subject: 'missing',
      from: 'nobody@example.com',
      envelopeFrom: 'alice@example.com',
    });
    expect(r.code).toBeGreaterThanOrEqual(500);
    expect(r.text).toContain('GRAPH_MAILBOX_NOT_FOUND');
  });
});

describe('adaptive reply hold: a proven route is answered at commit', () => {
  it('answers 250 before the function answers, and the message is still delivered exactly once', async () => {
    const edge = await adaptiveEdge();
    const first = await prove(edge);
    fn.script = () => ({ kind: 'delay', ms: 3000, then: { kind: 'sent' } });
    const r = await send(edge, { subject: 'after a success' });
    expect(r.text).toMatch(/^250 2\.0\.0 Ok: queued as \S+$/);
    const id = idFromReply(r.text);
    expect(decision(edge, id)).toEqual({ reply: 'commit', why: 'route-proven' });
    // The reply came while the function was still thinking: the entry is not done yet.
    expect(r.ms).toBeLessThan(3000);
    expect(await state(edge, id)).not.toBe('done');
    await waitState(edge, id, 'done');
    expect(await edge.listener.spool.get(id)).toMatchObject({ outcome: 'sent' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fn.byId(id)).toHaveLength(1);
    expect(fn.byId(first)).toHaveLength(1);
  });

  it('after a failure on a proven route, keeps that message (failed, with its body) and holds the next one', async () => {
    const edge = await adaptiveEdge();
    await prove(edge);
    fn.script = () => ({
      kind: 'delay',
      ms: 300,
      then: { kind: 'reject', code: 'GRAPH_MAILBOX_NOT_FOUND', detail: 'scan@example.com' },
    });
    const late = await send(edge, { subject: 'mailbox removed a moment ago' });
    // Answered at commit: the rejection cannot reach this device any more, so the message is kept for an admin.
    expect(late.code).toBe(250);
    const lateId = idFromReply(late.text);
    expect(decision(edge, lateId)).toEqual({ reply: 'commit', why: 'route-proven' });
    await waitState(edge, lateId, 'failed');
    expect(await edge.listener.spool.get(lateId)).toMatchObject({
      lastError: { code: 'GRAPH_MAILBOX_NOT_FOUND' },
    });
    expect(edge.listener.spool.openMessage(lateId)).toBeDefined();
    // The next message of the route waits again, and the device sees the 5xx.
    const next = await send(edge, { subject: 'next try' });
    expect(next.code).toBe(550);
    expect(next.text).toContain('GRAPH_MAILBOX_NOT_FOUND');
    expect(decision(edge, /\(id (\S+)\)/.exec(next.text)![1]!)).toEqual({
      reply: 'held',
      why: 'route-failed',
    });
    // Once the route works again it is proven again.
    fn.script = () => ({ kind: 'sent' });
    const fixed = await send(edge, { subject: 'fixed' });
    expect(fixed.text).toMatch(/sent as/);
    expect(decision(edge, idFromReply(fixed.text))).toEqual({ reply: 'held', why: 'route-failed' });
    const after = await send(edge, { subject: 'after the fix' });
    expect(decision(edge, idFromReply(after.text))).toEqual({ reply: 'commit', why: 'route-proven' });
  });

  it('answers at commit while the function paces the mailbox (202 queued), for another device too', async () => {
    const edge = await adaptiveEdge();
    fn.script = () => ({ kind: 'queued' });
    const first = await send(edge, { subject: 'paced', device: '127.0.0.1' });
    expect(first.text).toMatch(/^250 2\.0\.0 Ok: queued as \S+$/);
    expect(decision(edge, idFromReply(first.text))).toEqual({ reply: 'held', why: 'route-new' });
    fn.script = () => ({ kind: 'delay', ms: 3000, then: { kind: 'queued' } });
    // Same device: its route got an answer (queued) — proven.
    const same = await send(edge, { subject: 'paced 2', device: '127.0.0.1' });
    expect(decision(edge, idFromReply(same.text))).toEqual({ reply: 'commit', why: 'route-proven' });
    // Another copier sending as the same mailbox: the function is pacing that mailbox, so no wait either.
    const other = await send(edge, { subject: 'paced 3', device: '127.0.0.2' });
    expect(other.text).toMatch(/queued as/);
    expect(other.ms).toBeLessThan(3000);
    const otherId = idFromReply(other.text);
    expect(decision(edge, otherId)).toEqual({ reply: 'commit', why: 'mailbox-paced' });
    await fn.waitFor(() => fn.byId(otherId).length === 1);
    await vi.waitFor(async () => expect(await state(edge, otherId)).toBe('cloud'), 10_000);
  });

  it('answers new routes at commit when forwards back up (BRIDGE_REPLY_HOLD_BACKLOG)', async () => {
    const edge = await adaptiveEdge({ BRIDGE_REPLY_HOLD_BACKLOG: '2' });
    fn.script = () => ({ kind: 'delay', ms: 2500, then: { kind: 'sent' } });
    const slow = [
      send(edge, { subject: 'slow 1', from: 'one@example.com' }),
      send(edge, { subject: 'slow 2', from: 'two@example.com' }),
    ];
    await fn.waitFor(() => fn.active >= 2, 5000);
    const r = await send(edge, { subject: 'during the backlog', from: 'three@example.com' });
    expect(r.text).toMatch(/queued as/);
    const id = idFromReply(r.text);
    expect(decision(edge, id)).toEqual({ reply: 'commit', why: 'backlog' });
    const held = await Promise.all(slow);
    for (const h of held) {
      expect(h.text).toMatch(/sent as/);
      expect(decision(edge, idFromReply(h.text))).toEqual({ reply: 'held', why: 'route-new' });
    }
    await waitState(edge, id, 'done');
    expect(fn.byId(id)).toHaveLength(1);
  });

  it('counts the decisions in /metrics', async () => {
    const edge = await adaptiveEdge();
    await prove(edge);
    await send(edge, { subject: 'proven' });
    const text = await (await fetch(`http://127.0.0.1:${edge.listener.httpPort}/metrics`)).text();
    expect(text).toContain('bridge_edge_reply_hold_total{reason="route-new",reply="held"} 1');
    expect(text).toContain('bridge_edge_reply_hold_total{reason="route-proven",reply="commit"} 1');
  });
});

describe('BRIDGE_REPLY_HOLD=always / never and BRIDGE_FORWARD_BUDGET_MS=0', () => {
  it('always: a proven route still waits and is told "sent as"', async () => {
    const edge = await adaptiveEdge({ BRIDGE_REPLY_HOLD: 'always' });
    fn.script = () => ({ kind: 'sent' });
    for (const subject of ['a', 'b']) {
      const r = await send(edge, { subject });
      expect(r.text).toMatch(/sent as/);
      expect(decision(edge, idFromReply(r.text))).toEqual({ reply: 'held', why: 'always' });
    }
  });

  it.each([
    ['BRIDGE_REPLY_HOLD=never', { BRIDGE_REPLY_HOLD: 'never' }],
    ['BRIDGE_FORWARD_BUDGET_MS=0', { BRIDGE_FORWARD_BUDGET_MS: '0' }],
  ])('%s: even a new route is answered at commit; its rejection is kept for an admin', async (_n, env) => {
    const edge = await adaptiveEdge(env);
    fn.script = () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED' });
    const r = await send(edge, { subject: 'never held' });
    expect(r.code).toBe(250);
    const id = idFromReply(r.text);
    expect(decision(edge, id)).toEqual({ reply: 'commit', why: 'never' });
    await waitState(edge, id, 'failed');
  });
});

describeWithTool('swaks', 'adaptive reply hold with swaks', () => {
  it('a new route gets the function’s 5xx, a proven one its 250 at commit', async () => {
    const edge = await adaptiveEdge();
    const args = (subject: string) => [
      '--from',
      'copier@example.com',
      '--to',
      'b@example.org',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'scan',
    ];
    fn.script = () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED', detail: 'copier@example.com' });
    const refused = await swaks(edge.listener.smtpPort, args('refused'));
    expect(refused.code).not.toBe(0);
    expect(serverReplies(refused.transcript).some((l) => /^550 5\.7\.1 SENDER_NOT_ALLOWED/.test(l))).toBe(
      true,
    );
    fn.script = () => ({ kind: 'sent' });
    const ok = await swaks(edge.listener.smtpPort, args('allowed now'));
    expect(ok.code, ok.transcript).toBe(0);
    expect(decision(edge, spoolIdFromTranscript(ok.transcript))).toEqual({
      reply: 'held',
      why: 'route-failed',
    });
    fn.script = () => ({ kind: 'delay', ms: 3000, then: { kind: 'sent' } });
    const fast = await swaks(edge.listener.smtpPort, args('proven'));
    expect(fast.code, fast.transcript).toBe(0);
    const id = spoolIdFromTranscript(fast.transcript);
    expect(serverReplies(fast.transcript).some((l) => /^250 2\.0\.0 Ok: queued as /.test(l))).toBe(true);
    expect(decision(edge, id)).toEqual({ reply: 'commit', why: 'route-proven' });
    await waitState(edge, id, 'done');
    expect(fn.byId(id)).toHaveLength(1);
  });
});
