import { describe, expect, it } from 'vitest';

import { judgeAttempt, judgeExistingRecord } from '../../../functions/state/attempt-decision';
import type { MessageRecord } from '../../../functions/state/message-record';

const now = new Date('2026-01-01T12:00:00Z');
const STALE_MS = 60_000;

function record(over: Partial<MessageRecord>): MessageRecord {
  return {
    siteId: 'hq',
    messageId: 'msg-00000001',
    state: 'received',
    phase: 'preparing',
    attemptId: 'a',
    attempts: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...over,
  };
}
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

describe('judging a message id that already has a record', () => {
  it('replays final and queued outcomes', () => {
    for (const state of ['sent', 'failed', 'queued'] as const)
      expect(judgeExistingRecord(record({ state }), now, STALE_MS)).toEqual({ kind: 'replay' });
  });

  it('reports a fresh attempt as in progress with a bounded Retry-After', () => {
    const d = judgeExistingRecord(record({ updatedAt: ago(10_000) }), now, STALE_MS);
    expect(d).toEqual({ kind: 'in-progress', retryAfterMs: 30_000 });
    expect(judgeExistingRecord(record({ phase: 'graph', updatedAt: ago(59_500) }), now, STALE_MS)).toEqual({
      kind: 'in-progress',
      retryAfterMs: 1000,
    });
  });

  it('lets a new attempt take over from a dead one that never reached Graph', () => {
    expect(judgeExistingRecord(record({ updatedAt: ago(STALE_MS + 1) }), now, STALE_MS)).toEqual({
      kind: 'take-over',
    });
    expect(judgeExistingRecord(record({ phase: 'released' }), now, STALE_MS)).toEqual({ kind: 'take-over' });
  });

  it('marks a dead attempt that may have reached Graph as an unknown outcome', () => {
    expect(
      judgeExistingRecord(record({ phase: 'graph', updatedAt: ago(STALE_MS + 1) }), now, STALE_MS),
    ).toEqual({ kind: 'outcome-unknown' });
    expect(
      judgeAttempt(record({ state: 'queued', phase: 'graph', updatedAt: 'garbage' }), now, STALE_MS),
    ).toEqual({ kind: 'outcome-unknown' });
  });

  it('lets the queued sender proceed with a waiting message', () => {
    expect(judgeAttempt(record({ state: 'queued', phase: 'waiting' }), now, STALE_MS)).toEqual({
      kind: 'take-over',
    });
  });
});

describe('unknown outcomes are looked up, never sent blindly nor failed', () => {
  it('a queued record whose answer was lost goes to the look-up at once', () => {
    expect(judgeAttempt(record({ state: 'queued', phase: 'unknown' }), now, STALE_MS)).toEqual({
      kind: 'outcome-unknown',
    });
  });

  it('a received record marked unknown is in progress while fresh, looked up once stale', () => {
    expect(judgeExistingRecord(record({ phase: 'unknown' }), now, STALE_MS).kind).toBe('in-progress');
    expect(
      judgeExistingRecord(record({ phase: 'unknown', updatedAt: ago(2 * STALE_MS) }), now, STALE_MS),
    ).toEqual({ kind: 'outcome-unknown' });
  });
});
