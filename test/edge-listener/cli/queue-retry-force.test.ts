import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { bridgeError } from '../../../core/errors';
import { memoryLogger } from '../../../core/log';
import { Spool } from '../../../edge-listener/spool/spool';
import { runCli } from './edge-process';

/**
 * `queue retry` of a message whose outcome is unknown (Graph may have sent it) refuses without --force and
 * says why; with --force it resubmits (docs/design/custody-edge.md). Here the CLI acts on a stopped
 * listener's spool directly, through the same QueueAdmin the admin API and the status page use.
 * (The page's confirm step is the same 409 RESUBMIT_MAY_DUPLICATE answer, repeated with force.)
 */
const dataDir = mkdtempSync(join(tmpdir(), 'retry-force-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('queue retry --force', () => {
  it('refuses to resubmit an unknown outcome without --force, skips it in --all-failed, resubmits with --force', async () => {
    const spool = await Spool.open({
      dataDir,
      instanceId: 'cli',
      maxBytes: 1e9,
      minFreeBytes: 0,
      keepDone: 10,
      keepDoneMs: 60_000,
      logger: memoryLogger(),
    });
    const w = await spool.beginMessage();
    await w.write(Buffer.from('Subject: maybe\r\n\r\nsent or not\r\n'));
    const meta = await w.commit(
      {
        siteId: 'hq',
        mailFrom: 'scan@example.com',
        rcptTo: ['a@example.org'],
        clientAddress: '127.0.0.1',
        helo: 'mfp',
      },
      Date.now() + 60_000,
    );
    const id = meta.envelope.messageId;
    await spool.saveMeta(id, {
      ...meta,
      state: 'failed',
      failedBy: 'function',
      failedAt: new Date().toISOString(),
      lastError: bridgeError('GRAPH_OUTCOME_UNKNOWN').toJSON(),
    });
    await spool.close();
    const env = { ...process.env, BRIDGE_DATA_DIR: dataDir } as Record<string, string>;

    const refused = await runCli(['queue', 'retry', id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('may have been sent already');
    expect(refused.stderr).toContain('--force');

    const all = await runCli(['queue', 'retry', '--all-failed'], env);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain(`Skipped 1 message(s) whose outcome is unknown`);
    expect(all.stderr).toContain(id);

    const forced = await runCli(['queue', 'retry', id, '--force'], env);
    expect(forced.code).toBe(0);
    // acting directly on the spool, the CLI logs the action itself: the confirmation is on record
    expect(forced.stderr).toMatch(/"event":"ADMIN_ACTION".*"force":true.*"outcome":"done"/);
    expect(forced.stdout).toContain(`${id}  (resubmitted as ${id}.r1)`);
  }, 120_000);
});
