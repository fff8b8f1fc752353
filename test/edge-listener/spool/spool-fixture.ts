import { memoryLogger } from '../../../core/log';
import type { SpoolMeta } from '../../../edge-listener/spool/entry';
import type { EnvelopeParts } from '../../../edge-listener/spool/intake-writer';
import type { Spool, SpoolOptions } from '../../../edge-listener/spool/spool';

/** What the spool tests share: a spool's options in a test, one envelope, and storing a message the intake's way. */

export function spoolOptions(dataDir: string, more: Partial<SpoolOptions> = {}): SpoolOptions {
  return {
    dataDir,
    instanceId: 'unit',
    maxBytes: 10_000_000,
    minFreeBytes: 0,
    keepDone: 100,
    keepDoneMs: 86_400_000,
    logger: memoryLogger(),
    ...more,
  };
}

export const ENVELOPE_PARTS: EnvelopeParts = {
  siteId: 'hq',
  mailFrom: 'scan@example.com',
  rcptTo: ['a@example.org'],
  clientAddress: '192.0.2.7',
  helo: 'mfp',
};

/** Receives `body` and commits it, due in `retryInMs` (no forwarder runs in these tests). */
export async function storeMessage(spool: Spool, body: string, retryInMs = 60_000): Promise<SpoolMeta> {
  const w = await spool.beginMessage();
  await w.write(Buffer.from(body));
  return w.commit(ENVELOPE_PARTS, Date.now() + retryInMs);
}
