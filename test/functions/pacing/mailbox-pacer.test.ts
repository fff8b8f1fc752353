import { describe, expect, inject, it } from 'vitest';

import { MailboxPacer } from '../../../functions/pacing/mailbox-pacer';
import { createStorageClients } from '../../../functions/state/storage-clients';
import { uniqueStorageNames } from '../storage-names';

const connectionString = inject('azuriteConnectionString');

/** Several pacers over one table stand for scaled-out instances of the function. */
function instances(count: number, limits: { concurrency: number; perMinute: number }, nowMs?: () => number) {
  const names = uniqueStorageNames('pacer');
  return Array.from({ length: count }, () => {
    const clients = createStorageClients({ kind: 'connectionString', connectionString }, names);
    return new MailboxPacer(clients.table, clients.ensureCreated, { limits, ...(nowMs ? { nowMs } : {}) });
  });
}

describe('mailbox pacer over Table Storage', () => {
  it('never hands out more slots than the concurrency limit across instances racing for them', async () => {
    const pacers = instances(4, { concurrency: 3, perMinute: 1000 });
    const results = await Promise.all(
      pacers.flatMap((p) => [p.acquire('scanner@contoso.com'), p.acquire('Scanner@CONTOSO.com')]),
    );
    const granted = results.filter((r) => r.granted);
    expect(granted).toHaveLength(3);
    for (const r of results) if (!r.granted) expect(['concurrency', 'contention']).toContain(r.reason);
    for (const r of granted) if (r.granted) await r.lease.release();
    const after = await pacers[0]!.acquire('scanner@contoso.com');
    expect(after.granted).toBe(true);
  });

  it('keeps mailboxes independent', async () => {
    const [pacer] = instances(1, { concurrency: 1, perMinute: 1000 });
    const a = await pacer!.acquire('a@contoso.com');
    const b = await pacer!.acquire('b@contoso.com');
    expect(a.granted && b.granted).toBe(true);
    expect((await pacer!.acquire('a@contoso.com')).granted).toBe(false);
  });

  it('counts sends per minute across instances and says when the next may start', async () => {
    let now = 1_000_000;
    const pacers = instances(2, { concurrency: 10, perMinute: 2 }, () => now);
    const first = await pacers[0]!.acquire('m@contoso.com');
    now += 10_000;
    const second = await pacers[1]!.acquire('m@contoso.com');
    const third = await pacers[0]!.acquire('m@contoso.com');
    expect(first.granted && second.granted).toBe(true);
    expect(third).toEqual({ granted: false, reason: 'rate', retryAfterMs: 50_000 });
    now += 50_001;
    expect((await pacers[1]!.acquire('m@contoso.com')).granted).toBe(true);
  });

  it('counts a released send from its end: the next may start a minute after the answer', async () => {
    let now = 2_000_000;
    const [pacer] = instances(1, { concurrency: 4, perMinute: 1 }, () => now);
    const first = await pacer!.acquire('slow@contoso.com');
    if (!first.granted) throw new Error('first acquire failed');
    now += 5000; // the request took 5 s to answer
    await first.lease.release();
    now += 56_000; // a minute after the grant, 4 s short of a minute after the answer
    expect(await pacer!.acquire('slow@contoso.com')).toEqual({
      granted: false,
      reason: 'rate',
      retryAfterMs: 4000,
    });
    now += 4001;
    expect((await pacer!.acquire('slow@contoso.com')).granted).toBe(true);
  });

  it('waits in-process for a slot only while the wait fits the allowed time', async () => {
    const [pacer] = instances(1, { concurrency: 1, perMinute: 1000 });
    const held = await pacer!.acquire('w@contoso.com');
    if (!held.granted) throw new Error('first acquire failed');
    setTimeout(() => void held.lease.release(), 300);
    const waited = await pacer!.acquire('w@contoso.com', 5000);
    expect(waited.granted).toBe(true);
  });
});
