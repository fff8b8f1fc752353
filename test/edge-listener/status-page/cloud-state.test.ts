import { describe, expect, it } from 'vitest';

import { CloudStateReader } from '../../../edge-listener/status-page/cloud-state';
import type { HttpAnswer } from '../../../edge-listener/doctor/function-requests';

/** The read-back cache; the signed GET itself runs against the real function in status-page.test.ts. */
function reader(answers: Array<HttpAnswer | Error>, clock: { now: number }) {
  const paths: string[] = [];
  const r = new CloudStateReader(
    async (path) => {
      paths.push(path);
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      if (next instanceof Error) throw next;
      return next;
    },
    { refreshMs: 1000, retryMs: 5000, now: () => clock.now },
  );
  return { r, paths };
}
const json = (status: number, body: unknown): HttpAnswer => ({
  status,
  contentType: 'application/json',
  json: body,
  text: JSON.stringify(body),
});

describe('CloudStateReader', () => {
  it('says checking first, then the state; a final state is never asked again', async () => {
    const clock = { now: 0 };
    const { r, paths } = reader(
      [json(200, { id: 'm1', state: 'sent', sender: 's@example.com', graphRequestId: 'g-1' })],
      clock,
    );
    expect(r.view('m1')).toEqual({ kind: 'checking' });
    await r.settled();
    expect(r.view('m1')).toMatchObject({
      kind: 'state',
      state: 'sent',
      sender: 's@example.com',
      graphRequestId: 'g-1',
    });
    clock.now += 60_000;
    r.view('m1');
    await r.settled();
    expect(paths).toEqual(['/api/v1/messages/m1']);
  });

  it('re-reads a queued message until the cloud has an outcome', async () => {
    const clock = { now: 0 };
    const failed = {
      id: 'm2',
      state: 'failed',
      error: { code: 'GRAPH_MAILBOX_NOT_FOUND', message: 'Sending mailbox not found', hint: 'licence' },
    };
    const { r, paths } = reader(
      [json(202, { id: 'm2', state: 'queued' }), json(200, { id: 'm2', state: 'queued' }), json(200, failed)],
      clock,
    );
    r.view('m2');
    await r.settled();
    expect(r.view('m2')).toEqual({
      kind: 'unavailable',
      reason: 'the function answered HTTP 202',
      checkedAt: new Date(0).toISOString(),
    });
    clock.now += 5000;
    r.view('m2');
    await r.settled();
    expect(r.view('m2')).toMatchObject({ kind: 'state', state: 'queued' });
    r.view('m2'); // not stale yet: no read
    clock.now += 1000;
    r.view('m2');
    await r.settled();
    expect(r.view('m2')).toMatchObject({
      kind: 'state',
      state: 'failed',
      error: { code: 'GRAPH_MAILBOX_NOT_FOUND', hint: 'licence' },
    });
    expect(paths).toHaveLength(3);
  });

  it('explains a missing record and an unreachable function in words', async () => {
    const clock = { now: 0 };
    const { r } = reader(
      [
        json(404, { id: 'm3', state: 'received', error: { code: 'MESSAGE_NOT_FOUND' } }),
        Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      ],
      clock,
    );
    r.view('m3');
    r.view('m4');
    await r.settled();
    expect(r.view('m3')).toMatchObject({
      kind: 'unavailable',
      reason: 'the function has no record of this message',
    });
    expect(r.view('m4')).toMatchObject({
      kind: 'unavailable',
      reason: 'the function did not answer (ECONNREFUSED)',
    });
  });
});
