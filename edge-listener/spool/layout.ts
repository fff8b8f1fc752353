import { join } from 'node:path';

/**
 * On-disk layout under BRIDGE_DATA_DIR/spool:
 *
 *   tmp/          messages being received and metadata being rewritten; whatever is here at start was never
 *                 acknowledged and is removed
 *   messages/     <id>.eml (raw MIME exactly as received) + <id>.json (SpoolMeta). The .json is renamed in
 *                 last, so it is the commit marker; queued, deferred and failed entries live here and a
 *                 state change is one atomic replace of the .json. A small message in its first attempt
 *                 has no files yet: it is in the journal (and in memory) until it is done or must wait
 *   done.log      records of finished messages (no body), JSON lines, bounded by count and age (done-log.ts)
 *   quarantine/   anything that could not be read back, with <name>.reason.json; never deleted automatically
 *   journal/      commit journal segments (journal.ts): the durable copy of small messages until they are
 *                 done or their own files are fsync'd
 *   lock          pid of the listener that owns the spool
 */
export interface SpoolLayout {
  root: string;
  tmp: string;
  messages: string;
  doneLog: string;
  quarantine: string;
  journal: string;
  lockFile: string;
}

export function spoolLayout(dataDir: string): SpoolLayout {
  const root = join(dataDir, 'spool');
  return {
    root,
    tmp: join(root, 'tmp'),
    messages: join(root, 'messages'),
    doneLog: join(root, 'done.log'),
    quarantine: join(root, 'quarantine'),
    journal: join(root, 'journal'),
    lockFile: join(root, 'lock'),
  };
}

export const emlName = (id: string) => `${id}.eml`;
export const metaName = (id: string) => `${id}.json`;
