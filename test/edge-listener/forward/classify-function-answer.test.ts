import { describe, expect, it } from 'vitest';

import { bridgeError } from '../../../core/errors';
import { retryDelayMs } from '../../../edge-listener/forward/backoff';
import { classifyAnswer, classifyNoAnswer } from '../../../edge-listener/forward/classify-function-answer';

const ID = '01m8fg6n09-edge-x7c2egpnkz9g8ex9';
const answer = (status: number, body: unknown, retryAfter?: string) => ({
  status,
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  ...(retryAfter ? { retryAfter } : {}),
});
const failed = (code: Parameters<typeof bridgeError>[0]) => ({
  id: ID,
  state: 'failed',
  error: bridgeError(code).toJSON(),
});

describe('classifying the function’s answer', () => {
  it('takes sent and queued at face value', () => {
    expect(classifyAnswer(answer(200, { id: ID, state: 'sent' }), ID, 0).kind).toBe('sent');
    expect(classifyAnswer(answer(202, { id: ID, state: 'queued' }), ID, 0).kind).toBe('queued');
  });

  it('rejects only on a definite permanent answer for this id', () => {
    const r = classifyAnswer(answer(422, failed('SENDER_NOT_ALLOWED')), ID, 0);
    expect(r).toMatchObject({ kind: 'rejected', error: { code: 'SENDER_NOT_ALLOWED' } });
    expect(classifyAnswer(answer(413, failed('MESSAGE_TOO_LARGE')), ID, 0).kind).toBe('rejected');
  });

  it.each([
    ['a 5xx with a permanent-looking body', answer(503, failed('GRAPH_REJECTED')), 'FUNCTION_BAD_RESPONSE'],
    ['a 401 with a permanent-looking body', answer(401, failed('GRAPH_REJECTED')), 'FUNCTION_BAD_RESPONSE'],
    [
      'a 429 throttle',
      answer(429, { id: ID, state: 'received', error: bridgeError('GRAPH_THROTTLED').toJSON() }),
      'GRAPH_THROTTLED',
    ],
    [
      'an answer for another id',
      answer(422, { ...failed('GRAPH_REJECTED'), id: 'someone-else-1' }),
      'FUNCTION_BAD_RESPONSE',
    ],
    ['an HTML page', answer(200, '<html>'), 'FUNCTION_BAD_RESPONSE'],
    ['a bare 404', answer(404, ''), 'FUNCTION_UNREACHABLE'],
    ['a bare 401 (function key)', answer(401, ''), 'FUNCTION_UNREACHABLE'],
    [
      'a retryable code marked non-retryable (version skew)',
      answer(422, {
        id: ID,
        state: 'failed',
        error: { ...bridgeError('GRAPH_THROTTLED').toJSON(), retryable: false },
      }),
      'GRAPH_THROTTLED',
    ],
    ['still in progress', answer(202, { id: ID, state: 'received' }), 'MESSAGE_IN_PROGRESS'],
  ])('defers %s', (_name, a, code) => {
    const r = classifyAnswer(a, ID, 0);
    expect(r.kind).toBe('deferred');
    expect(r.kind === 'deferred' && r.error.code).toBe(code);
  });

  it('defers when there is no answer at all', () => {
    const r = classifyNoAnswer(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(r).toMatchObject({
      kind: 'deferred',
      error: { code: 'FUNCTION_UNREACHABLE', detail: 'ECONNREFUSED' },
    });
  });

  it('honours Retry-After from the header and from the body, whichever is longer', () => {
    const r = classifyAnswer(
      answer(
        503,
        {
          id: ID,
          state: 'received',
          error: { ...bridgeError('GRAPH_THROTTLED').toJSON(), retryAfterMs: 90_000 },
        },
        '30',
      ),
      ID,
      0,
    );
    expect(r.kind === 'deferred' && r.retryAfterMs).toBe(90_000);
  });
});

describe('retry delays', () => {
  const policy = { scheduleMs: [1000, 5000, 60_000], jitter: 0.2 };
  it('walk the table, repeat its last entry and stay within the jitter', () => {
    expect(retryDelayMs({ ...policy, random: () => 0.5 }, 1)).toBe(1000);
    expect(retryDelayMs({ ...policy, random: () => 0.5 }, 2)).toBe(5000);
    expect(retryDelayMs({ ...policy, random: () => 0.5 }, 9)).toBe(60_000);
    expect(retryDelayMs({ ...policy, random: () => 0 }, 3)).toBe(48_000);
    expect(retryDelayMs({ ...policy, random: () => 1 }, 3)).toBe(72_000);
  });
  it('never go below Retry-After', () => {
    expect(retryDelayMs({ ...policy, random: () => 0.5 }, 1, 120_000)).toBe(120_000);
  });
});
