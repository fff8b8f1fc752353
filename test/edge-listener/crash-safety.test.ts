import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FakeFunction } from '../helpers/fake-function';
import { edgeEnv } from '../helpers/edge-env';
import { idFromReply } from './helpers/edge-harness';
import { type EdgeProcess, spawnEdge } from './helpers/edge-process';
import { openSession } from './helpers/raw-smtp';
import { silentLogger } from '../../core/log';
import { Spool } from '../../edge-listener/spool/spool';

/**
 * The listener as a child process, killed with SIGKILL at the worst moments and started again on the same
 * spool. The promise under test: every message that got a 250 reaches the function at least once (the
 * function's idempotency turns "at least once" into "exactly once"), and nothing half-written survives.
 */
let fn: FakeFunction;
const running: EdgeProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  fn = await FakeFunction.start();
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
  fn.script = () => ({ kind: 'sent' });
});
afterAll(async () => {
  await fn?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir: string, extra: Record<string, string> = {}): Promise<EdgeProcess> {
  const p = await spawnEdge(edgeEnv(fn, dataDir, { BRIDGE_RETRY_SCHEDULE: '300ms', ...extra }));
  running.push(p);
  return p;
}

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'edge-crash-'));
  dirs.push(d);
  return d;
}

async function sendOne(port: number, n: number): Promise<string> {
  const c = await openSession(port);
  try {
    await c.command(`MAIL FROM:<dev${n}@example.com>`);
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const r = await c.command(`Subject: m${n}\r\n\r\n${'body '.repeat(200)}\r\n.`);
    if (r.code !== 250) throw new Error(`got ${r.code}`);
    return idFromReply(r.text);
  } finally {
    c.destroy();
  }
}

describe('crash safety (SIGKILL)', () => {
  it('killed mid-DATA: acknowledged messages survive, the partial one leaves nothing behind', async () => {
    const dir = newDir();
    const edge = await start(dir);
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) acked.push(await sendOne(edge.smtpPort, i));
    const c = await openSession(edge.smtpPort);
    await c.command('MAIL FROM:<partial@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    // larger than what is kept in memory (4 MiB), so it streams into a temp file
    c.write(`Subject: never finished\r\n\r\n${'x'.repeat(5_000_000)}`);
    const tmp = join(dir, 'spool', 'tmp');
    for (let i = 0; i < 200 && readdirSync(tmp).length === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(readdirSync(tmp)).toHaveLength(1);
    await edge.kill();
    c.destroy();
    const again = await start(dir);
    const recovered = await again.waitForLine((l) => l.event === 'SPOOL_RECOVERED');
    expect(recovered.tmpRemoved).toBe(1);
    expect(readdirSync(join(dir, 'spool', 'tmp'))).toEqual([]);
    expect(readdirSync(join(dir, 'spool', 'quarantine'))).toEqual([]);
    for (const id of acked) expect(fn.byId(id).length).toBeGreaterThanOrEqual(1);
    expect(fn.received.some((r) => r.envelope.mailFrom === 'partial@example.com')).toBe(false);
  });

  it('killed while POSTs hang: every 250-acknowledged message is delivered after the restart', async () => {
    const dir = newDir();
    fn.script = () => ({ kind: 'hang' });
    const edge = await start(dir, { BRIDGE_FORWARD_BUDGET_MS: '100ms' });
    const acked: string[] = [];
    for (let i = 0; i < 8; i++) acked.push(await sendOne(edge.smtpPort, 100 + i));
    await fn.waitFor(() => acked.every((id) => fn.byId(id).length === 1));
    await edge.kill();
    fn.script = () => ({ kind: 'sent' });
    const again = await start(dir);
    await fn.waitFor(() => acked.every((id) => fn.byId(id).length === 2), 15_000);
    // the attempt recorded before the crash was counted: the retry is attempt 2, not another attempt 1
    await again.waitForLine((l) => l.event === 'MESSAGE_SENT' && l.mid === acked[0] && l.attempt === 2);
  });

  it('killed at a random moment under load: no 250-acknowledged message is lost', async () => {
    const dir = newDir();
    let n = 0;
    fn.script = () =>
      ++n % 5 === 0
        ? { kind: 'retry', status: 503 }
        : { kind: 'delay', ms: n % 3 === 0 ? 400 : 5, then: { kind: 'sent' } };
    const edge = await start(dir, { BRIDGE_FORWARD_BUDGET_MS: '150ms' });
    const acked: string[] = [];
    let stop = false;
    const senders = Array.from({ length: 4 }, async (_, s) => {
      for (let i = 0; !stop; i++) {
        try {
          acked.push(await sendOne(edge.smtpPort, s * 1000 + i));
        } catch {
          return; // the listener died under us: this message got no 250
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await edge.kill();
    stop = true;
    await Promise.all(senders);
    expect(acked.length).toBeGreaterThan(10);
    fn.script = () => ({ kind: 'sent' });
    await start(dir);
    await fn.waitFor(() => acked.every((id) => fn.byId(id).length >= 1), 20_000);
    const lost = acked.filter((id) => fn.byId(id).length === 0);
    expect(lost).toEqual([]);
  });

  it('SIGTERM stops gracefully with exit code 0 and keeps waiting messages for the next start', async () => {
    const dir = newDir();
    fn.script = () => ({ kind: 'retry', status: 503 });
    const edge = await start(dir, { BRIDGE_FORWARD_BUDGET_MS: '100ms', BRIDGE_RETRY_SCHEDULE: '1h' });
    const id = await sendOne(edge.smtpPort, 7);
    expect(await edge.stop()).toBe(0);
    expect(edge.lines.some((l) => l.event === 'HOST_STOPPED' && l.phase === 'stopped')).toBe(true);
    const again = await start(dir, { BRIDGE_RETRY_SCHEDULE: '1h' });
    const recovered = await again.waitForLine((l) => l.event === 'SPOOL_RECOVERED');
    expect(recovered.entries).toBe(1);
    expect(readdirSync(join(dir, 'spool', 'messages')).sort()).toEqual([`${id}.eml`, `${id}.json`]);
    // while it runs, nobody else may open its spool
    await expect(
      Spool.open({
        dataDir: dir,
        instanceId: 'intruder',
        maxBytes: 1e9,
        minFreeBytes: 0,
        keepDone: 10,
        keepDoneMs: 1e6,
        logger: silentLogger,
      }),
    ).rejects.toMatchObject({ code: 'SPOOL_IN_USE' });
    expect(again.proc.exitCode).toBeNull();
  });
});
