/**
 * Child of journal-directory-fsync.test.ts, run under strace: opens a spool in a directory that does not exist
 * yet, commits one small message (a journal commit), then writes a marker line so the trace shows the moment
 * the message counted as acknowledged.
 */
import { writeSync } from 'node:fs';

import { memoryLogger } from '../../../core/log';
import { Spool } from '../../../edge-listener/spool/spool';

async function main(): Promise<void> {
  const dataDir = process.argv[2]!;
  const spool = await Spool.open({
    dataDir,
    instanceId: 'strace',
    maxBytes: 10_000_000,
    minFreeBytes: 0,
    keepDone: 10,
    keepDoneMs: 60_000,
    logger: memoryLogger(),
  });
  const writer = await spool.beginMessage();
  await writer.write(Buffer.from('Subject: t\r\n\r\nsmall\r\n'));
  await writer.commit(
    {
      siteId: 'hq',
      mailFrom: 'a@example.com',
      rcptTo: ['b@example.org'],
      clientAddress: '127.0.0.1',
      helo: 'x',
    },
    Date.now() + 60_000,
  );
  writeSync(1, 'ACKNOWLEDGED\n');
  await spool.close();
}

void main();
