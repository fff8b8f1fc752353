import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { SpoolMeta } from '../../../edge-listener/spool/entry';
import { HeldMessage } from '../../../edge-listener/spool/held-message';
import { CommitJournal } from '../../../edge-listener/spool/journal';
import { newSpoolId } from '../../../edge-listener/spool/spool-id';

/**
 * The checkpoint (checkpoint.ts) asks the journal which ids still live only in a closed segment, writes
 * their files, and lets the journal delete the segment. An id appended but still waiting for its group
 * fdatasync must not be among them: the spool has no copy of it yet (it enters the index once the commit
 * resolves), so the checkpoint would count it settled with no files and the segment — the message's only
 * durable copy — would be deleted under it: the commit then failed with EBADF (a 451 seen under load in
 * bench/edge), or, if the fdatasync had just finished, the device got its 250 for a message no longer on
 * disk (docs/design/edge-ingest.md §checkpoint race).
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function metaFor(id: string, bytes: number): SpoolMeta {
  return {
    version: 1,
    envelope: {
      messageId: id,
      siteId: 'hq',
      mailFrom: 'scan@example.com',
      rcptTo: ['a@example.org'],
      clientAddress: '192.0.2.7',
      helo: 'mfp',
      receivedAt: new Date().toISOString(),
    },
    mimeBytes: bytes,
    state: 'queued',
    attempts: 1,
    nextAttemptAt: new Date(Date.now() + 60_000).toISOString(),
  };
}

describe('commit journal and the checkpoint', () => {
  it('never offers an id for checkpointing before its commit is durable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-race-'));
    dirs.push(dir);
    // Segments closed at once (max age 0): every batch of appends opens a new segment, so the previous one
    // is checkpointable while its group fdatasync may still run — the window a loaded machine opens.
    const journal = await CommitJournal.open(dir, 0);
    const durable = new Set<string>();
    const offeredEarly: string[] = [];
    let offered = 0;
    let polling = true;
    const poll = async () => {
      while (polling) {
        for (const id of journal.idsToCheckpoint(Date.now())) {
          offered++;
          if (!durable.has(id)) offeredEarly.push(id);
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    const poller = poll();
    const body = Buffer.from(`Subject: race\r\n\r\n${'x'.repeat(2000)}\r\n`);
    for (let wave = 0; wave < 30; wave++) {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const id = newSpoolId('unit');
          await journal.commit(metaFor(id, body.length), HeldMessage.of(body));
          durable.add(id);
        }),
      );
    }
    polling = false;
    await poller;
    await journal.close();
    expect(durable.size).toBe(240);
    // the poll saw the committed ids of closed segments (the check is not vacuous) but never an unsynced one
    expect(offered).toBeGreaterThan(0);
    expect(offeredEarly).toEqual([]);
  });
});
