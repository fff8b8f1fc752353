import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';

/**
 * The sandbox's Sent Items (docs/design/custody.md): a sent copy shows after the configured lag, the
 * look-up by internetMessageId needs a read permission, and the "carried out, answer lost" fault delivers
 * before it drops the connection.
 */
const MAILBOX = 'scanner@contoso.com';
const LAG_MS = 400;

let sandbox: GraphSandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startFakeGraph({ sentItemsLagMs: LAG_MS });
  token = sandbox.issueToken();
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.clear());

function sendMail(internetMessageId: string, saveToSentItems = true) {
  return fetch(`${sandbox.url}/v1.0/users/${MAILBOX}/sendMail`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      message: {
        subject: 'hi',
        body: { contentType: 'text', content: 'x' },
        toRecipients: [{ emailAddress: { address: 'a@example.org' } }],
        internetMessageId,
      },
      saveToSentItems,
    }),
  });
}

async function lookUp(id: string, opts: { folder?: string; t?: string; filter?: string } = {}) {
  const filter = opts.filter ?? `internetMessageId eq '${id}'`;
  const folder = opts.folder === undefined ? '' : `mailFolders/${opts.folder}/`;
  const res = await fetch(
    `${sandbox.url}/v1.0/users/${MAILBOX}/${folder}messages?$filter=${encodeURIComponent(filter)}&$select=id,internetMessageId,isDraft`,
    { headers: { Authorization: `Bearer ${opts.t ?? token}` } },
  );
  return { status: res.status, body: (await res.json()) as { value?: Array<Record<string, unknown>> } };
}

describe('graph sandbox: Sent Items', () => {
  it('shows a sent copy by internetMessageId only after the lag', async () => {
    expect((await sendMail('<a1.hq@contoso.com>')).status).toBe(202);
    expect((await lookUp('<a1.hq@contoso.com>', { folder: 'sentitems' })).body.value).toEqual([]);
    await new Promise((r) => setTimeout(r, LAG_MS + 100));
    const found = await lookUp('<a1.hq@contoso.com>', { folder: 'SentItems' });
    expect(found.status).toBe(200);
    expect(found.body.value).toEqual([
      expect.objectContaining({ internetMessageId: '<a1.hq@contoso.com>', isDraft: false }),
    ]);
    expect((await lookUp('<other.hq@contoso.com>', { folder: 'sentitems' })).body.value).toEqual([]);
  });

  it('keeps no copy when saveToSentItems is false', async () => {
    expect((await sendMail('<nosave.hq@contoso.com>', false)).status).toBe(202);
    await new Promise((r) => setTimeout(r, LAG_MS + 100));
    expect((await lookUp('<nosave.hq@contoso.com>')).body.value).toEqual([]);
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('refuses the look-up without a read permission, and a filter it does not know', async () => {
    const sendOnly = sandbox.issueToken({ roles: ['Mail.Send'] });
    const denied = await lookUp('<x@y>', { t: sendOnly });
    expect(denied.status).toBe(403);
    expect(JSON.stringify(denied.body)).toContain('ErrorAccessDenied');
    const basic = sandbox.issueToken({ roles: ['Mail.Send', 'Mail.ReadBasic'] });
    expect((await lookUp('<x@y>', { t: basic })).status).toBe(200);
    expect((await lookUp('<x@y>', { filter: "subject eq 'x'" })).status).toBe(400);
  });

  it('lose-answer: carries the send out, then closes the connection without an answer', async () => {
    sandbox.inject({ route: 'sendMail', action: 'lose-answer' });
    await expect(sendMail('<lost.hq@contoso.com>')).rejects.toThrow();
    expect(sandbox.messages()).toHaveLength(1);
    expect(sandbox.sentCount(MAILBOX, '<lost.hq@contoso.com>')).toBe(1);
    expect(sandbox.requests().find((r) => r.route === 'sendMail')?.fault).toBe('lose-answer');
  });
});
