import { describe, expect, it } from 'vitest';

import {
  ReplyHoldPolicy,
  type ReplyHoldOptions,
  type Route,
  routeKey,
} from '../../../edge-listener/forward/reply-hold-policy';

/** The policy on a clock the test moves; the edge tests (reply-hold.test.ts) drive it with real SMTP. */
function policy(extra: Partial<ReplyHoldOptions> = {}) {
  const clock = { now: 1_000_000 };
  const p = new ReplyHoldPolicy({
    mode: 'adaptive',
    budgetMs: 5000,
    trustMs: 60_000,
    backlog: 32,
    now: () => clock.now,
    ...extra,
  });
  return { p, clock };
}

const copier: Route = { clientAddress: '192.168.1.20', mailFrom: 'scan@contoso.com' };
let seq = 0;
const nextId = () => `id-${++seq}`;

describe('reply-hold policy', () => {
  it('holds a new route, answers it at commit after a success, and holds it again after a rejection', () => {
    const { p } = policy();
    const first = nextId();
    expect(p.decide(first, copier, 0)).toEqual({ hold: true, reason: 'route-new' });
    p.learn(first, 'sent');
    const second = nextId();
    expect(p.decide(second, copier, 0)).toEqual({ hold: false, reason: 'route-proven' });
    p.learn(second, 'failed', 'GRAPH_MAILBOX_NOT_FOUND');
    const third = nextId();
    expect(p.decide(third, copier, 0)).toEqual({ hold: true, reason: 'route-failed' });
    p.learn(third, 'rejected', 'GRAPH_MAILBOX_NOT_FOUND');
    expect(p.decide(nextId(), copier, 0)).toEqual({ hold: true, reason: 'route-failed' });
  });

  it('learns nothing from a deferral or from the edge’s own expiry', () => {
    const { p } = policy();
    const a = nextId();
    p.decide(a, copier, 0);
    p.learn(a, 'deferred', 'FUNCTION_UNREACHABLE');
    expect(p.decide(nextId(), copier, 0).reason).toBe('route-new');
    const b = nextId();
    p.decide(b, copier, 0);
    p.learn(b, 'sent');
    const c = nextId();
    p.decide(c, copier, 0);
    p.learn(c, 'failed', 'MESSAGE_EXPIRED');
    expect(p.decide(nextId(), copier, 0).reason).toBe('route-proven');
  });

  it('forgets a success after the trust time (TTL): the route is held again', () => {
    const { p, clock } = policy({ trustMs: 60_000 });
    const a = nextId();
    p.decide(a, copier, 0);
    p.learn(a, 'sent');
    clock.now += 59_999;
    expect(p.decide(nextId(), copier, 0).reason).toBe('route-proven');
    clock.now += 1;
    expect(p.decide(nextId(), copier, 0)).toEqual({ hold: true, reason: 'route-new' });
  });

  it('treats routes by device, AUTH user, envelope sender and From header, case-insensitively', () => {
    const { p } = policy();
    const a = nextId();
    p.decide(a, { ...copier, headerFrom: ['Alice@Contoso.com'] }, 0);
    p.learn(a, 'sent');
    expect(p.decide(nextId(), { ...copier, headerFrom: ['alice@contoso.com'] }, 0).reason).toBe(
      'route-proven',
    );
    for (const other of [
      { ...copier, headerFrom: ['bob@contoso.com'] },
      { ...copier, headerFrom: ['alice@contoso.com'], clientAddress: '192.168.1.21' },
      { ...copier, headerFrom: ['alice@contoso.com'], authUser: 'mfp2' },
      { ...copier, headerFrom: ['alice@contoso.com'], mailFrom: 'other@contoso.com' },
    ])
      expect(p.decide(nextId(), other, 0), routeKey(other)).toEqual({ hold: true, reason: 'route-new' });
  });

  it('answers at commit for a mailbox the function is pacing (202), from any device, until the trust time', () => {
    const { p, clock } = policy();
    const a = nextId();
    p.decide(a, copier, 0);
    p.learn(a, 'queued');
    const otherDevice = { ...copier, clientAddress: '192.168.1.99' };
    expect(p.decide(nextId(), otherDevice, 0)).toEqual({ hold: false, reason: 'mailbox-paced' });
    // The queued message failing in the cloud makes its route held again (its id is still remembered).
    p.learn(a, 'failed', 'GRAPH_MAILBOX_NOT_FOUND');
    expect(p.decide(nextId(), copier, 0).reason).toBe('route-failed');
    clock.now += 60_000;
    expect(p.decide(nextId(), otherDevice, 0).reason).toBe('route-new');
  });

  it('answers new routes at commit when forwards back up, but still holds a route that just failed', () => {
    const { p } = policy({ backlog: 4 });
    expect(p.decide(nextId(), copier, 3).reason).toBe('route-new');
    expect(p.decide(nextId(), copier, 4)).toEqual({ hold: false, reason: 'backlog' });
    const a = nextId();
    p.decide(a, copier, 0);
    p.learn(a, 'rejected', 'SENDER_NOT_ALLOWED');
    expect(p.decide(nextId(), copier, 100)).toEqual({ hold: true, reason: 'route-failed' });
  });

  it('follows BRIDGE_REPLY_HOLD=always / never, and a budget of 0 means never', () => {
    expect(policy({ mode: 'always' }).p.decide(nextId(), copier, 1000)).toEqual({
      hold: true,
      reason: 'always',
    });
    expect(policy({ mode: 'never' }).p.decide(nextId(), copier, 0)).toEqual({ hold: false, reason: 'never' });
    const zero = policy({ budgetMs: 0 }).p;
    expect(zero.decide(nextId(), copier, 0)).toEqual({ hold: false, reason: 'never' });
    expect(zero.wantsHeaderFrom).toBe(false);
    expect(zero.size).toEqual({ routes: 0, paced: 0, pending: 0 });
  });

  it('keeps at most maxRoutes routes, mailboxes and pending ids (LRU): many senders cannot grow memory', () => {
    const { p } = policy({ maxRoutes: 50 });
    const firstRoute = { ...copier, mailFrom: 'sender0@contoso.com' };
    for (let i = 0; i < 5000; i++) {
      const id = `m-${i}`;
      p.decide(id, { ...copier, mailFrom: `sender${i}@contoso.com` }, 0);
      p.learn(id, i % 2 === 0 ? 'sent' : 'queued');
      if (i === 0) expect(p.decide('again', firstRoute, 0).reason).toBe('route-proven');
    }
    const size = p.size;
    expect(size.routes).toBe(50);
    expect(size.paced).toBe(50);
    expect(size.pending).toBeLessThanOrEqual(50);
    // The oldest route was forgotten: held again, as an unproven one.
    expect(p.decide('late', firstRoute, 0).reason).toBe('route-new');
    // The most recent one is still known.
    expect(p.decide('recent', { ...copier, mailFrom: 'sender4998@contoso.com' }, 0).reason).toBe(
      'route-proven',
    );
  });
});
