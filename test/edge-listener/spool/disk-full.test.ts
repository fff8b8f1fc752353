import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';
import { openSession } from '../helpers/raw-smtp';

/**
 * A full disk and a full quota: the device gets 452 SPOOL_FULL (and retries later), nothing half-written is
 * left, and every message accepted before is intact and still delivered. The disk case runs on a real 3 MiB
 * tmpfs when this process may mount one (root in CI containers); otherwise it says so and uses the quota.
 */
let fn: FakeFunction;
let mountDir: string;
let mounted = false;

beforeAll(async () => {
  fn = await FakeFunction.start({ script: () => ({ kind: 'retry', status: 503 }) });
  mountDir = mkdtempSync(join(tmpdir(), 'edge-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountDir], { stdio: 'pipe' });
    mounted = true;
  } catch (e) {
    console.warn(
      `disk-full test: cannot mount a tmpfs (${(e as Error).message.split('\n')[0]}); falling back to BRIDGE_SPOOL_MAX_BYTES`,
    );
  }
});
afterAll(async () => {
  await fn?.close();
  if (mounted) execFileSync('umount', [mountDir]);
  rmSync(mountDir, { recursive: true, force: true });
});

/** Sends messages until one is refused; sizes take turns (those up to 256 KiB go through the journal). */
async function fillUntilRefused(edge: TestEdge, ...sizes: number[]) {
  const accepted: string[] = [];
  const c = await openSession(edge.listener.smtpPort);
  for (let i = 0; i < 100; i++) {
    await c.command('MAIL FROM:<scan@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const size = sizes[i % sizes.length]!;
    const r = await c.command(`Subject: fill ${i}\r\n\r\n${'0123456789abcdef\r\n'.repeat(size / 18)}.`);
    if (r.code !== 250) {
      c.destroy();
      return { accepted, refusal: r };
    }
    accepted.push(idFromReply(r.text));
  }
  throw new Error('the spool never filled up');
}

async function expectIntactAndDelivered(edge: TestEdge, accepted: string[]) {
  const spool = edge.listener.spool;
  // A meta update of a forward attempt may be mid-write (tmp file, then rename) at this instant; what must never
  // happen is a file that stays behind, so wait briefly for in-flight writes to finish before asserting.
  await vi.waitFor(() => expect(readdirSync(spool.layout.tmp)).toEqual([]), 3000);
  const sizes = new Map<string, number>();
  for (const id of accepted) {
    const entry = await spool.get(id);
    expect(entry?.state).toMatch(/queued|deferred/);
    expect((await buffer(spool.openMessage(id)!)).length).toBe(entry!.mimeBytes);
    sizes.set(id, entry!.mimeBytes);
  }
  fn.script = () => ({ kind: 'sent' });
  for (const id of accepted) await spool.retry(id);
  await fn.waitFor(
    () => accepted.every((id) => fn.byId(id).some((r) => r.seq >= 2 && r.mimeBytes === sizes.get(id))),
    10_000,
  );
  await vi.waitFor(() => expect(spool.stats().depth.deferred + spool.stats().depth.queued).toBe(0), 5000);
  fn.script = () => ({ kind: 'retry', status: 503 });
}

describe('spool full', () => {
  it('disk full: 452 SPOOL_FULL, nothing half-written, earlier messages intact after a restart and delivered', async () => {
    const dataDir = mounted ? mountDir : mkdtempSync(join(tmpdir(), 'edge-full-fallback-'));
    const settings = {
      BRIDGE_FORWARD_BUDGET_MS: '50ms',
      BRIDGE_RETRY_SCHEDULE: '1h',
      BRIDGE_SPOOL_MAX_BYTES: mounted ? '1GiB' : '3MiB',
    };
    // ballast an admin can delete later to make room again
    const ballast = join(dataDir, 'ballast.bin');
    writeFileSync(ballast, Buffer.alloc(mounted ? 700 * 1024 : 1));
    const first = await startTestEdge(fn, settings, dataDir);
    let edge = first;
    try {
      const { accepted, refusal } = await fillUntilRefused(first, 150 * 1024, 400 * 1024);
      expect(accepted.length).toBeGreaterThan(2);
      expect(refusal.code).toBe(452);
      expect(refusal.text).toContain('SPOOL_FULL');
      console.info(
        `disk-full test (${mounted ? 'tmpfs' : 'quota fallback'}): ${accepted.length} accepted, then "${refusal.text}"`,
      );
      expect(first.lines.some((l) => l.event === 'SPOOL_FULL')).toBe(true);
      // a restart on the full disk starts and reads everything back, journal included
      edge = await first.restart();
      expect(edge.listener.spool.stats().depth.deferred).toBe(accepted.length);
      rmSync(ballast); // the admin makes room
      await expectIntactAndDelivered(edge, accepted);
      // space is back: the next message is taken
      const c = await openSession(edge.listener.smtpPort);
      await c.command('MAIL FROM:<scan@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      expect((await c.command('Subject: after\r\n\r\nroom again\r\n.')).code).toBe(250);
      c.destroy();
    } finally {
      await edge.stop();
      if (!mounted) rmSync(dataDir, { recursive: true, force: true });
      else
        for (const name of readdirSync(dataDir))
          rmSync(join(dataDir, name), { recursive: true, force: true });
    }
  });

  it('quota: SIZE= that cannot fit gets 452 at MAIL FROM, a body that passes the quota gets 452 after DATA', async () => {
    const edge = await startTestEdge(fn, {
      BRIDGE_FORWARD_BUDGET_MS: '50ms',
      BRIDGE_RETRY_SCHEDULE: '1h',
      BRIDGE_SPOOL_MAX_BYTES: '1MiB',
    });
    try {
      const c = await openSession(edge.listener.smtpPort);
      const early = await c.command(`MAIL FROM:<scan@example.com> SIZE=${2 * 1024 * 1024}`);
      expect(early.code).toBe(452);
      expect(early.text).toContain('SPOOL_FULL');
      c.destroy();
      const { accepted, refusal } = await fillUntilRefused(edge, 300 * 1024);
      expect(accepted).toHaveLength(3);
      expect(refusal.code).toBe(452);
      expect(edge.listener.spool.stats().bytes).toBeLessThanOrEqual(1024 * 1024);
      await expectIntactAndDelivered(edge, accepted);
    } finally {
      await edge.cleanup();
    }
  });
});
