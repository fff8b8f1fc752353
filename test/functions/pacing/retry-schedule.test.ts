import { describe, expect, it } from 'vitest';

import { MAX_RETRY_INTERVAL_MS } from '../../../core/custody';
import { nextRetry } from '../../../functions/pacing/retry-schedule';

const HOUR = 3600_000;
const base = {
  delaysMs: [30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000, 3_600_000],
  maxIntervalMs: MAX_RETRY_INTERVAL_MS,
  startMs: 0,
  horizonMs: 5 * 24 * HOUR,
};

describe('nextRetry: capped backoff up to the horizon, no attempt limit', () => {
  it('grows along the table and never waits longer than the cap without a Retry-After', () => {
    const waits = [1, 2, 5, 8, 50, 500].map(
      (attempts) => nextRetry({ ...base, attempts, error: {}, nowMs: HOUR }) as { delayMs: number },
    );
    expect(waits.map((w) => w.delayMs)).toEqual([30_000, 60_000, 600_000, 1_800_000, 1_800_000, 1_800_000]);
  });

  it('honours a Retry-After as given, even above the cap', () => {
    expect(nextRetry({ ...base, attempts: 3, error: { retryAfterMs: 2 * HOUR }, nowMs: HOUR })).toEqual({
      kind: 'retry',
      delayMs: 2 * HOUR,
    });
  });

  it('keeps retrying on day 4 after hundreds of attempts, and expires only at the horizon', () => {
    expect(nextRetry({ ...base, attempts: 300, error: {}, nowMs: 4 * 24 * HOUR }).kind).toBe('retry');
    expect(nextRetry({ ...base, attempts: 3, error: {}, nowMs: 5 * 24 * HOUR })).toEqual({ kind: 'expired' });
  });

  it('cuts the last wait so that one attempt happens at the horizon itself', () => {
    const nowMs = base.horizonMs - 5 * 60_000;
    expect(nextRetry({ ...base, attempts: 40, error: {}, nowMs })).toEqual({
      kind: 'retry',
      delayMs: 5 * 60_000,
    });
  });
});
