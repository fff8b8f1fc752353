import { describe, expect, it } from 'vitest';

import {
  emptyBudget,
  releaseLease,
  renewLease,
  tryTake,
  WINDOW_MS,
  type MailboxBudget,
} from '../../../functions/pacing/mailbox-budget';

const limits = { concurrency: 2, perMinute: 3 };

function take(b: MailboxBudget, now: number, id: string, leaseMs = 10_000) {
  const r = tryTake(b, limits, now, id, leaseMs);
  return r;
}

describe('mailbox budget', () => {
  it('grants up to the concurrency limit and then asks to wait', () => {
    let b = emptyBudget();
    for (const id of ['a', 'b']) {
      const r = take(b, 0, id);
      expect(r.granted).toBe(true);
      if (r.granted) b = r.next;
    }
    const third = take(b, 0, 'c');
    expect(third).toMatchObject({ granted: false, reason: 'concurrency' });
  });

  it('frees a slot when a lease is released or expires', () => {
    let b = emptyBudget();
    for (const id of ['a', 'b']) {
      const r = take(b, 0, id, 5000);
      if (r.granted) b = r.next;
    }
    expect(take(releaseLease(b, 'a', 1), 1, 'c').granted).toBe(true);
    expect(take(b, 5001, 'c').granted).toBe(true);
  });

  it('never lets more than perMinute sends start within any minute', () => {
    let b = emptyBudget();
    const starts: number[] = [];
    for (let t = 0; t < 5 * WINDOW_MS; t += 997) {
      const r = take(b, t, `l${t}`, 1);
      if (r.granted) {
        b = releaseLease(r.next, `l${t}`, t);
        starts.push(t);
      }
    }
    for (const s of starts)
      expect(starts.filter((t) => t >= s && t < s + WINDOW_MS).length).toBeLessThanOrEqual(limits.perMinute);
    expect(starts.length).toBeGreaterThanOrEqual(limits.perMinute * 4);
  });

  it('says how long until the oldest start leaves the window when the rate is used up', () => {
    let b = emptyBudget();
    for (const [i, t] of [0, 1000, 2000].entries()) {
      const r = take(b, t, `x${i}`, 1);
      if (r.granted) b = releaseLease(r.next, `x${i}`, t);
    }
    expect(take(b, 3000, 'y')).toEqual({ granted: false, reason: 'rate', retryAfterMs: WINDOW_MS - 3000 });
  });

  it('renews a held lease but does not revive an expired one', () => {
    const r = take(emptyBudget(), 0, 'a', 1000);
    if (!r.granted) throw new Error('not granted');
    expect(renewLease(r.next, 'a', 500, 1000).leases.a).toBe(1500);
    expect(renewLease(r.next, 'a', 1500, 1000).leases.a).toBeUndefined();
  });

  it('counts a send from its end once released, so it holds its place a whole minute after Exchange saw it', () => {
    const one = { concurrency: 4, perMinute: 1 };
    const r = tryTake(emptyBudget(), one, 0, 'a', 60_000);
    if (!r.granted) throw new Error('not granted');
    const released = releaseLease(r.next, 'a', 5000, 0);
    expect(released.startsMs).toEqual([5000]);
    expect(tryTake(released, one, 60_001, 'b', 60_000)).toEqual({
      granted: false,
      reason: 'rate',
      retryAfterMs: 4999,
    });
    expect(tryTake(released, one, 65_001, 'b', 60_000).granted).toBe(true);
  });

  it('still counts a send that ran longer than the window, from its end', () => {
    const one = { concurrency: 4, perMinute: 1 };
    const r = tryTake(emptyBudget(), one, 0, 'a', 120_000);
    if (!r.granted) throw new Error('not granted');
    expect(releaseLease(r.next, 'a', 70_000, 0).startsMs).toEqual([70_000]);
  });

  it("keeps Exchange's minute when a slow first request arrives after later fast ones were granted", () => {
    // A burst of 100 at Exchange's limits. Each request reaches Exchange `delay` after its grant (the first one
    // slowest: token and TLS handshake) and is answered 100 ms later. Exchange counts at arrival.
    const exchange = { concurrency: 4, perMinute: 30 };
    let b = emptyBudget();
    const running: Array<{ id: string; grantedMs: number; endMs: number }> = [];
    const arrivals: number[] = [];
    let next = 0;
    for (let t = 0; t <= 400_000 && arrivals.length < 100; t += 10) {
      for (const run of running.filter((x) => x.endMs <= t)) {
        b = releaseLease(b, run.id, t, run.grantedMs);
        running.splice(running.indexOf(run), 1);
      }
      while (next < 100) {
        const id = `s${next}`;
        const take = tryTake(b, exchange, t, id, 600_000);
        if (!take.granted) break;
        b = take.next;
        const delay = next === 0 ? 3000 : 50;
        arrivals.push(t + delay);
        running.push({ id, grantedMs: t, endMs: t + delay + 100 });
        next += 1;
      }
    }
    expect(arrivals).toHaveLength(100);
    arrivals.sort((x, y) => x - y);
    for (const a of arrivals)
      expect(arrivals.filter((x) => x >= a && x < a + WINDOW_MS).length).toBeLessThanOrEqual(30);
  });
});
