import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { EntryView, StatusSnapshot } from '../../../edge-listener/status-page/status-snapshot';
import { ADMIN_TOKEN, startStatusStack, type StatusStack } from './status-stack';

/**
 * The status page against the real bridge in one process (status-stack.ts): what it shows for each state a
 * message can be in, its sandbox views, and its two actions. Access rules: status-access.test.ts.
 */
let stack: StatusStack;

beforeAll(async () => {
  // The copier gets its 250 at once, so a permanent failure ends in the spool's failed list, not as a 5xx.
  stack = await startStatusStack('status-page', {
    BRIDGE_FORWARD_BUDGET_MS: '0',
    BRIDGE_MAX_QUEUE_AGE_MS: '1500ms',
  });
});
afterAll(async () => {
  await stack?.close();
});

const HOSTILE = `<img src=x onerror="alert(1)"> "quoted" & <script>alert(2)</script>`;
const find = (list: EntryView[], id: string) => list.find((e) => e.id === id);
const action = (kind: 'retry' | 'delete', id: string) =>
  fetch(`${stack.baseUrl}/status/api/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id }),
  });

describe('status page', () => {
  it('serves the page and its assets with a strict Content-Security-Policy and no message data in them', async () => {
    const res = await fetch(`${stack.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toContain('/status/assets/status.js');
    expect(html).not.toMatch(/<script>|on(click|load|error)=/i); // no inline code at all
    const js = await fetch(`${stack.baseUrl}/status/assets/status.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).not.toContain('innerHTML');
  });

  it('shows a message sent over SMTP as finished, with the cloud state read back and the kept copy in the sandbox', async () => {
    const pdf = Buffer.from('%PDF-1.4 scanned page\n');
    const id = await stack.send({
      from: 'Scanner <scanner@example.com>',
      to: 'alice@example.com',
      subject: HOSTILE,
      text: 'Please find the scan attached.',
      attachments: [{ filename: 'Scan März.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    const snap = await vi.waitFor(async () => {
      const s = await stack.snapshot();
      expect(find(s.recent, id)?.cloud?.kind).toBe('state');
      expect(s.sandbox?.messages.length ?? 0).toBeGreaterThan(0);
      return s;
    }, 20_000);
    const entry = find(snap.recent, id);
    expect(entry).toMatchObject({
      state: 'done',
      outcome: 'sent',
      subject: HOSTILE,
      mailFrom: 'scanner@example.com',
      rcptTo: ['alice@example.com'],
      attempts: 1,
    });
    // What the function recorded, read back over the signed GET of core/wire.ts.
    expect(entry?.cloud).toMatchObject({
      kind: 'state',
      state: 'sent',
      sender: 'scanner@example.com',
      graphRequestId: entry?.result?.graphRequestId,
    });
    const kept = snap.sandbox?.messages.find((m) => m.subject === HOSTILE);
    expect(kept).toMatchObject({
      mailbox: 'scanner@example.com',
      to: ['alice@example.com'],
      bodyType: 'text',
    });
    expect(kept?.attachments).toEqual([
      { n: 1, name: 'Scan März.pdf', contentType: 'application/pdf', size: pdf.length, isInline: false },
    ]);

    const download = await fetch(`${stack.baseUrl}/status/api/sandbox/attachment?id=${kept?.id}&n=1`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="Scan M_rz.pdf"; filename*=UTF-8''Scan%20M%C3%A4rz.pdf`,
    );
    expect(Buffer.from(await download.arrayBuffer())).toEqual(pdf);

    const eml = await fetch(`${stack.baseUrl}/status/api/sandbox/eml?id=${kept?.id}`);
    expect(eml.headers.get('content-type')).toBe('message/rfc822');
    expect(await eml.text()).toContain('Please find the scan attached.');
  });

  it('previews an HTML body sanitized and sandboxed: no script, no event handler, no remote load', async () => {
    await stack.send({
      from: 'scanner@example.com',
      to: 'bob@example.com',
      subject: 'HTML body',
      html: '<p onclick="x()">Hello <b>world</b></p><script>parent.pwned=1</script><a href="javascript:alert(1)">link</a><img src="https://tracker.example/p.gif">',
    });
    const snap = await vi.waitFor(async () => {
      const s = await stack.snapshot();
      expect(s.sandbox?.messages.map((m) => m.subject)).toContain('HTML body');
      return s;
    }, 20_000);
    const kept = snap.sandbox?.messages.find((m) => m.subject === 'HTML body');
    const res = await fetch(`${stack.baseUrl}/status/api/sandbox/preview?id=${kept?.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'/);
    const doc = await res.text();
    expect(doc).toContain('<p>Hello <b>world</b></p>');
    expect(doc).toContain('<a>link</a>');
    expect(doc).not.toMatch(/<script|onclick|javascript:|tracker\.example/i);
  });

  it('lists a message Graph refused as failed, with the reason, hint and Graph request id, and deletes it on request', async () => {
    stack.fn.graph.inject({
      route: 'sendMail',
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    });
    const id = await stack.send({
      from: 'unlicensed@example.com',
      to: 'carol@example.com',
      subject: 'Refused by Graph',
      text: 'x',
    });
    const snap = await vi.waitFor(async () => {
      const s = await stack.snapshot();
      expect(find(s.failed, id)).toBeDefined();
      return s;
    }, 20_000);
    const failed = find(snap.failed, id);
    expect(failed?.error).toMatchObject({
      code: 'GRAPH_MAILBOX_NOT_FOUND',
      retryable: false,
      graph: { status: 404, code: 'MailboxNotEnabledForRESTAPI' },
    });
    expect(failed?.error?.graph?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed?.error?.hint).toMatch(/licence/);
    expect(snap.spool.depth.failed).toBeGreaterThanOrEqual(1);

    const res = await action('delete', id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: id });
    const after = await stack.snapshot();
    expect(find(after.failed, id)).toBeUndefined();
    expect(stack.lines).toContainEqual(
      expect.objectContaining({
        event: 'ADMIN_ACTION',
        via: 'status-page',
        action: 'delete',
        mid: id,
        outcome: 'done',
        auth: 'address',
        client: '127.0.0.1',
      }),
    );
  });

  it('shows a message the function could not take as deferred with its last error, then failed when it expires; a retry sends it', async () => {
    stack.functionSwitch.down();
    let id = '';
    try {
      id = await stack.send({
        from: 'scanner@example.com',
        to: 'dave@example.com',
        subject: 'While the function was down',
        text: 'x',
      });
      const deferred = await vi.waitFor(async () => {
        const s = await stack.snapshot();
        expect(find(s.waiting, id)?.state).toBe('deferred');
        return s;
      }, 20_000);
      expect(find(deferred.waiting, id)).toMatchObject({
        state: 'deferred',
        subject: 'While the function was down',
        error: { code: 'FUNCTION_UNREACHABLE', retryable: true },
      });
      expect(Date.parse(find(deferred.waiting, id)?.nextAttemptAt ?? '')).toBeGreaterThan(Date.now() - 1000);
      const expired = await vi.waitFor(async () => {
        const s = await stack.snapshot();
        expect(find(s.failed, id)).toBeDefined();
        return s;
      }, 20_000);
      expect(find(expired.failed, id)?.error).toMatchObject({ code: 'MESSAGE_EXPIRED' });
      expect(find(expired.failed, id)?.error?.detail).toContain('FUNCTION_UNREACHABLE');
    } finally {
      stack.functionSwitch.up = true;
    }
    const res = await action('retry', id);
    expect(res.status).toBe(200);
    const sent = await vi.waitFor(async () => {
      const s = await stack.snapshot();
      expect(find(s.recent, id)?.outcome).toBe('sent');
      return s;
    }, 20_000);
    expect(find(sent.recent, id)?.attempts).toBeGreaterThanOrEqual(3); // the failed ones, then the retry
    expect(find(sent.failed, id)).toBeUndefined();
    expect(stack.lines).toContainEqual(
      expect.objectContaining({
        event: 'ADMIN_ACTION',
        via: 'status-page',
        action: 'retry',
        mid: id,
        outcome: 'done',
      }),
    );
  });

  it('answers 404 for an action on an unknown id and 400 for a body without a spool id', async () => {
    expect((await action('retry', 'no-such-message-id')).status).toBe(404);
    const bad = await fetch(`${stack.baseUrl}/status/api/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"id":"../../etc/passwd"}',
    });
    expect(bad.status).toBe(400);
  });

  it('counts accepted, sent and failed messages in the activity chart with their delivery latency', async () => {
    const snap: StatusSnapshot = await stack.snapshot({ authorization: `Bearer ${ADMIN_TOKEN}` });
    const total = (k: 'accepted' | 'sent' | 'failed') => snap.activity.buckets.reduce((n, b) => n + b[k], 0);
    expect(total('accepted')).toBe(4);
    expect(total('sent')).toBe(3);
    expect(total('failed')).toBe(2); // refused by Graph, expired
    expect(snap.activity.buckets.some((b) => (b.latencyAvgMs ?? -1) >= 0)).toBe(true);
  });
});
