import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { spawnEdge, type EdgeProcess } from '../edge-listener/helpers/edge-process';
import { dataBlob, openSession } from '../edge-listener/helpers/raw-smtp';
import { e2eEdgeEnv } from '../helpers/e2e-edge';
import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { startFunctionStack, type FunctionStack } from '../helpers/e2e-function-stack';
import type { GraphGate } from '../helpers/e2e-graph-gate';

/**
 * The edge listener as a child process, SIGKILLed mid-DATA and mid-forward, restarted on the same data
 * directory, in front of the REAL function (local host, Table Storage idempotency) and the fake Graph. A gate
 * between the function and Graph holds Graph calls for a moment, so the edge's POSTs are in flight when it
 * dies. The promise: every message that got 250 reaches Graph exactly once (the edge retries, the function's
 * idempotency answers with the recorded outcome instead of sending again); a message killed before its 250
 * may or may not arrive, but never twice.
 */

const RUN = randomBytes(3).toString('hex');
let stack: FunctionStack;
let gate: GraphGate;
const running: EdgeProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  stack = await startFunctionStack('e2ecrash', {
    gate: true,
    settings: { BRIDGE_ALLOWED_SENDERS: '*@contoso.com', BRIDGE_MAILBOX_PER_MINUTE: '600' },
    // A live attempt answers a repeat with 409 + Retry-After up to (stale time - age); 15 s keeps the
    // restarted listener's wait short while the held attempts (a few seconds) stay far from stale.
    overrides: { tuning: { attemptStaleMs: 15_000 } },
  });
  gate = stack.gate as GraphGate;
}, 60_000);

afterEach(async () => {
  gate.open();
  for (const p of running.splice(0)) await p.kill();
});

afterAll(async () => {
  await stack?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-crash-'));
  dirs.push(dir);
  return dir;
}

/** The listener process: 300 ms try-then-hold budget, so a held Graph call turns into "250, then retry". */
async function startEdge(dataDir: string): Promise<EdgeProcess> {
  const edge = await spawnEdge(
    e2eEdgeEnv(stack, dataDir, { BRIDGE_FORWARD_BUDGET_MS: '300ms', BRIDGE_RETRY_SCHEDULE: '300ms,500ms' }),
  );
  running.push(edge);
  return edge;
}

const subjectOf = (tag: string) => `Crash ${RUN} ${tag}`;
const copiesOf = (subject: string) => stack.graph.messages().filter((m) => m.subject === subject).length;

function message(from: string, subject: string, bodyBytes = 2000): string {
  return [
    `From: ${from}`,
    'To: alice@fabrikam.com',
    `Subject: ${subject}`,
    '',
    'x'.repeat(bodyBytes),
    '',
  ].join('\r\n');
}

/** One whole SMTP transaction on its own connection; resolves with the spool id of the 250, rejects otherwise. */
async function sendOne(port: number, tag: string, from = 'scanner@contoso.com'): Promise<string> {
  const c = await openSession(port, 'EHLO copier.e2e.test');
  try {
    for (const line of [`MAIL FROM:<${from}>`, 'RCPT TO:<alice@fabrikam.com>']) {
      const r = await c.command(line);
      if (r.code !== 250) throw new Error(`${line}: ${r.code}`);
    }
    if ((await c.command('DATA')).code !== 354) throw new Error('DATA refused');
    c.write(dataBlob(message(from, subjectOf(tag))));
    const done = await c.reply(30_000);
    if (done.code !== 250) throw new Error(`end of data: ${done.code} ${done.text}`);
    return idFromReply(done.text);
  } finally {
    c.destroy();
  }
}

/** The listener's spool counts by state (from its /healthz). */
async function spoolDepth(edge: EdgeProcess): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${edge.httpPort}/healthz`);
  const body = (await res.json()) as { spool?: { depth?: Record<string, number> } };
  return body.spool?.depth ?? {};
}

/** Waits until the listener has nothing left to forward and every acknowledged message is at Graph. */
async function drained(edge: EdgeProcess, acked: string[]): Promise<void> {
  const pending = (d: Record<string, number>) => (d.queued ?? 0) + (d.deferred ?? 0) + (d.inflight ?? 0);
  await vi.waitFor(
    async () => {
      expect(pending(await spoolDepth(edge))).toBe(0);
      expect(acked.filter((t) => copiesOf(subjectOf(t)) === 0)).toEqual([]);
    },
    { timeout: 45_000, interval: 100 },
  );
  // A duplicate would come from a retry still on its way: give one more retry interval to show itself.
  await new Promise((r) => setTimeout(r, 1000));
  const depth = await spoolDepth(edge);
  expect({ pending: pending(depth), failed: depth.failed ?? 0 }).toEqual({ pending: 0, failed: 0 });
}

describe('SIGKILL of the edge listener in front of the real function: exactly once', () => {
  it('killed with forwards in flight and a DATA half sent: acknowledged messages arrive once, the half message never', async () => {
    const dir = newDataDir();
    const first = await startEdge(dir);
    const acked: string[] = [];
    for (let i = 0; i < 3; i++) {
      await sendOne(first.smtpPort, `a${i}`);
      acked.push(`a${i}`);
    }
    await vi.waitFor(() => expect(acked.filter((t) => copiesOf(subjectOf(t)) !== 1)).toEqual([]), 20_000);

    // Graph is held: each 250 comes after the 300 ms budget while the POST (and the function's Graph call) goes on.
    gate.shut();
    const held = Array.from({ length: 6 }, (_, i) => `b${i}`);
    await Promise.all(held.map((t, i) => sendOne(first.smtpPort, t, `device${i}@contoso.com`)));
    acked.push(...held);
    expect(
      await vi.waitFor(() => {
        const n = gate.waiting();
        expect(n).toBe(held.length);
        return n;
      }, 20_000),
    ).toBe(held.length);

    // Mid-DATA: half a message, no terminator. And one whose terminator races the kill (250 or not).
    const half = await openSession(first.smtpPort);
    for (const line of ['MAIL FROM:<scanner@contoso.com>', 'RCPT TO:<alice@fabrikam.com>', 'DATA'])
      await half.command(line);
    half.write(message('scanner@contoso.com', subjectOf('half'), 300_000));
    const racing = await openSession(first.smtpPort);
    for (const line of ['MAIL FROM:<scanner@contoso.com>', 'RCPT TO:<alice@fabrikam.com>', 'DATA'])
      await racing.command(line);
    await new Promise((r) => setTimeout(r, 100));
    racing.write(dataBlob(message('scanner@contoso.com', subjectOf('race'))));
    await first.kill();
    half.destroy();
    // Whatever the listener managed to answer before it died is still buffered on our side.
    const raceReply = await racing.reply(200).catch(() => undefined);
    racing.destroy();

    // The restarted listener re-posts what is in flight while Graph still holds the first attempts: the function
    // must answer "in progress", not send a second copy.
    const second = await startEdge(dir);
    await second.waitForLine((l) => l.event === 'MESSAGE_DEFERRED' && l.code === 'MESSAGE_IN_PROGRESS');
    gate.open();
    await drained(second, acked);

    expect(acked.map((t) => [t, copiesOf(subjectOf(t))])).toEqual(acked.map((t) => [t, 1]));
    expect(copiesOf(subjectOf('half'))).toBe(0);
    // The racing message: exactly once if it got its 250, else at most once.
    if (raceReply?.code === 250) expect(copiesOf(subjectOf('race'))).toBe(1);
    else expect(copiesOf(subjectOf('race'))).toBeLessThanOrEqual(1);
    expect(readdirSync(join(dir, 'spool', 'tmp'))).toEqual([]);
  }, 90_000);

  it('killed at random moments under load, three times over: no acknowledged message lost or doubled', async () => {
    const dir = newDataDir();
    const acked: string[] = [];
    const attempted: string[] = [];
    for (let round = 0; round < 3; round++) {
      const edge = await startEdge(dir);
      let stop = false;
      const senders = Array.from({ length: 3 }, async (_, s) => {
        for (let i = 0; !stop; i++) {
          const tag = `r${round}-s${s}-${i}`;
          attempted.push(tag);
          try {
            await sendOne(edge.smtpPort, tag, `loader${s}@contoso.com`);
            acked.push(tag);
          } catch {
            return; // the listener died under this transaction: no 250, no promise made
          }
        }
      });
      // Part of each round with Graph held, so the kill finds forwards in flight at the function.
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
      if (round !== 1) gate.shut();
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 400));
      await edge.kill();
      stop = true;
      await Promise.all(senders);
      // The function finishes what was held (the edge that posted it is gone); the next listener re-posts
      // those ids and must get the recorded outcome back, not a second send.
      gate.open();
    }
    expect(acked.length).toBeGreaterThan(10);
    const last = await startEdge(dir);
    await drained(last, acked);

    const counts = new Map(attempted.map((t) => [t, copiesOf(subjectOf(t))]));
    expect(acked.filter((t) => counts.get(t) !== 1)).toEqual([]);
    expect(attempted.filter((t) => (counts.get(t) ?? 0) > 1)).toEqual([]);
  }, 120_000);
});
