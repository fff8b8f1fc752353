import { describe, expect, it } from 'vitest';

import { EdgeEvents } from '../../../edge-listener/events';
import { ActivitySeries } from '../../../edge-listener/status-page/activity-series';

describe('ActivitySeries', () => {
  it('counts accepted, sent, deferred and failed messages per bucket with the mean and maximum latency', () => {
    let now = 1_000_000;
    const series = new ActivitySeries({ bucketMs: 10_000, buckets: 3, now: () => now });
    const events = new EdgeEvents();
    series.follow(events);
    events.emit('accepted', { id: 'a', bytes: 10, rcpts: 1 });
    events.emit('outcome', { id: 'a', kind: 'sent', attempt: 1, durationMs: 100 });
    events.emit('outcome', { id: 'b', kind: 'queued', attempt: 1, durationMs: 300 });
    now += 10_000;
    events.emit('outcome', { id: 'c', kind: 'deferred', attempt: 1, durationMs: 5 });
    events.emit('outcome', { id: 'd', kind: 'rejected', attempt: 1, durationMs: 5 });
    events.emit('outcome', { id: 'e', kind: 'failed', attempt: 3, durationMs: 5 });
    const [oldest, previous, current] = series.buckets();
    expect(oldest).toEqual({ t: 990_000, accepted: 0, sent: 0, failed: 0, deferred: 0 });
    expect(previous).toEqual({
      t: 1_000_000,
      accepted: 1,
      sent: 2,
      failed: 0,
      deferred: 0,
      latencyAvgMs: 200,
      latencyMaxMs: 300,
    });
    expect(current).toEqual({ t: 1_010_000, accepted: 0, sent: 0, failed: 2, deferred: 1 });
  });

  it('forgets buckets that left the window and stops counting once unfollowed', () => {
    let now = 0;
    const series = new ActivitySeries({ bucketMs: 1000, buckets: 2, now: () => now });
    const events = new EdgeEvents();
    const unfollow = series.follow(events);
    events.emit('accepted', { id: 'a', bytes: 1, rcpts: 1 });
    now = 5000;
    events.emit('accepted', { id: 'b', bytes: 1, rcpts: 1 });
    unfollow();
    events.emit('accepted', { id: 'c', bytes: 1, rcpts: 1 });
    expect(series.buckets().map((b) => b.accepted)).toEqual([0, 1]);
  });
});
