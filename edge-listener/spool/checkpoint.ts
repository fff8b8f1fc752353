import type { CommitJournal } from './journal';
import type { MessageFiles } from './message-files';
import type { SpoolIndex } from './spool-index';

/**
 * Puts messages that outlived their journal segment on their own durable files, so the segment can be
 * deleted: a journal-only message gets its .eml and .json written (unless an attempt is in flight — that
 * attempt settles it itself), one already on files gets them fsync'd; then the directory is fsync'd once.
 * Most messages are done long before this runs.
 */
export async function checkpoint(
  journal: CommitJournal,
  index: SpoolIndex,
  files: MessageFiles,
  now: number,
): Promise<void> {
  const ids = journal.idsToCheckpoint(now);
  if (ids.length === 0) return;
  const settled: string[] = [];
  for (const id of ids) {
    const pending = index.pendingOf(id);
    if (!pending) {
      await files.sync(id);
      settled.push(id);
    } else if (index.claim(id)) {
      try {
        await files.writeEntry(id, pending.body, JSON.stringify(pending.meta));
        index.put(id, pending.meta);
        settled.push(id);
      } finally {
        index.release(id);
      }
    }
  }
  await files.syncDirectory();
  await journal.checkpointed(settled);
}
