import { afterEach, describe, expect, it } from 'vitest';

import { parseSandboxCli } from '../../../dev/graph-sandbox/cli-options';
import { MailboxRateWindow } from '../../../dev/graph-sandbox/mailbox-limits';
import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';

/**
 * Exchange's per-mailbox limits in the sandbox (docs/design/platform-facts.md §A3): 30 messages a minute
 * per mailbox (opt-in, mailboxPerMinute) and 4 concurrent requests per app and mailbox, each refusal a
 * counted 429 with Retry-After.
 */
let sandbox: GraphSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const message = {
  subject: 'scan',
  body: { contentType: 'text', content: 'x' },
  toRecipients: [{ emailAddress: { address: 'a@example.org' } }],
};

async function sendMail(s: GraphSandbox, mailbox: string, token: string, signal?: AbortSignal) {
  const res = await fetch(`${s.url}/v1.0/users/${encodeURIComponent(mailbox)}/sendMail`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ message, saveToSentItems: false }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    code: text ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined,
  };
}

describe('graph sandbox: message rate per mailbox', () => {
  it('refuses the (n+1)-th message of a mailbox within a minute with a counted 429 and Retry-After', async () => {
    sandbox = await startFakeGraph({ mailboxPerMinute: 3 });
    const token = sandbox.issueToken();
    for (let i = 0; i < 3; i++)
      expect((await sendMail(sandbox, 'scanner@contoso.example', token)).status).toBe(202);
    const fourth = await sendMail(sandbox, 'scanner@contoso.example', token);
    expect(fourth).toMatchObject({ status: 429, code: 'ApplicationThrottled' });
    expect(Number(fourth.retryAfter)).toBeGreaterThanOrEqual(59);
    expect(Number(fourth.retryAfter)).toBeLessThanOrEqual(60);
    // another mailbox has its own minute
    expect((await sendMail(sandbox, 'other@contoso.example', token)).status).toBe(202);
    expect(sandbox.messages()).toHaveLength(4);
    expect(sandbox.throttles()).toEqual({ concurrency: 0, rate: 1, total: 1 });
    expect(sandbox.requests().filter((r) => r.throttled === 'rate')).toHaveLength(1);
    sandbox.clear();
    expect(sandbox.throttles()).toEqual({ concurrency: 0, rate: 0, total: 0 });
  });

  it('does not count refused submissions against the minute', async () => {
    sandbox = await startFakeGraph({ mailboxPerMinute: 1 });
    const token = sandbox.issueToken();
    sandbox.inject({ route: 'sendMail', status: 503 });
    expect((await sendMail(sandbox, 'scanner@contoso.example', token)).status).toBe(503);
    expect((await sendMail(sandbox, 'scanner@contoso.example', token)).status).toBe(202);
    expect((await sendMail(sandbox, 'scanner@contoso.example', token)).status).toBe(429);
  });

  it('is not enforced unless asked for (the default every other test relies on)', async () => {
    sandbox = await startFakeGraph();
    const token = sandbox.issueToken();
    for (let i = 0; i < 35; i++)
      expect((await sendMail(sandbox, 'scanner@contoso.example', token)).status).toBe(202);
    expect(sandbox.throttles().total).toBe(0);
  });

  it('slides: room comes back as the oldest submission leaves the last 60 s', () => {
    let now = 1_000_000;
    const w = new MailboxRateWindow(2, () => now);
    w.record('A@x');
    now += 30_000;
    w.record('a@x');
    expect(w.retryAfterSec('a@X')).toBe(30);
    now += 29_500;
    expect(w.retryAfterSec('a@x')).toBe(1);
    now += 500;
    expect(w.retryAfterSec('a@x')).toBeUndefined();
  });

  it('takes the limit from --mailbox-per-minute and refuses nonsense', () => {
    expect(parseSandboxCli(['--mailbox-per-minute', '30'])).toMatchObject({
      options: { mailboxPerMinute: 30 },
    });
    expect(() => parseSandboxCli(['--mailbox-per-minute', '0'])).toThrow(/whole number/);
  });
});

describe('graph sandbox: concurrency per app and mailbox', () => {
  it('counts the fifth concurrent request of one app as a concurrency throttle; another app has its own 4', async () => {
    sandbox = await startFakeGraph();
    const token = sandbox.issueToken();
    sandbox.inject({ route: 'sendMail', action: 'hang', processFirst: true, times: 4 });
    const abort = new AbortController();
    const hanging = Array.from({ length: 4 }, () =>
      sendMail(sandbox!, 'scanner@contoso.example', token, abort.signal).catch(() => undefined),
    );
    await expect.poll(() => sandbox!.requests().filter((r) => r.fault === 'hang').length).toBe(4);
    expect(await sendMail(sandbox, 'scanner@contoso.example', token)).toMatchObject({
      status: 429,
      code: 'ApplicationThrottled',
    });
    const otherApp = sandbox.issueToken({ appid: 'another-app' });
    expect((await sendMail(sandbox, 'scanner@contoso.example', otherApp)).status).toBe(202);
    expect(sandbox.throttles()).toEqual({ concurrency: 1, rate: 0, total: 1 });
    abort.abort();
    await Promise.all(hanging);
  });
});
