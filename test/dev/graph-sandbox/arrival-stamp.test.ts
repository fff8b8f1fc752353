import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';

/**
 * The sandbox stamps each request's arrival on the clock a benchmark in the same process reads
 * (performance.timeOrigin + now()), in its request log and in the kept message's requests: the end of the
 * latency bench/stack/latency.ts measures.
 */
let sandbox: GraphSandbox;

beforeAll(async () => {
  sandbox = await startFakeGraph({});
});
afterAll(async () => {
  await sandbox.close();
});

const clock = () => performance.timeOrigin + performance.now();

describe('graph sandbox: arrival stamps', () => {
  it('stamps a sendMail between the client sending it and getting its answer, the same in the log and the kept message', async () => {
    const before = clock();
    const res = await fetch(`${sandbox.url}/v1.0/users/scanner%40example.com/sendMail`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sandbox.issueToken()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        message: {
          subject: 'stamped',
          body: { contentType: 'text', content: 'x' },
          toRecipients: [{ emailAddress: { address: 'a@example.org' } }],
        },
      }),
    });
    const after = clock();
    expect(res.status).toBe(202);
    const entry = sandbox.requests().find((r) => r.route === 'sendMail');
    expect(entry?.arrivedAtMs).toBeGreaterThanOrEqual(before);
    expect(entry?.arrivedAtMs).toBeLessThanOrEqual(after);
    // headers arrive before the body has been read (`at`, ms resolution)
    expect(entry?.arrivedAtMs).toBeLessThanOrEqual(Date.parse(entry?.at ?? '') + 1);
    const kept = sandbox.messages().find((m) => m.subject === 'stamped');
    expect(kept?.requests[0]?.arrivedAtMs).toBe(entry?.arrivedAtMs);
  });

  it('stamps refused requests too (a 401 without a token)', async () => {
    const before = clock();
    const res = await fetch(`${sandbox.url}/v1.0/users/scanner%40example.com/sendMail`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(401);
    const entry = sandbox.requests().findLast((r) => r.status === 401);
    expect(entry?.arrivedAtMs).toBeGreaterThanOrEqual(before);
  });
});
