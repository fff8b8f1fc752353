import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { fsyncDirectory, isNoSpace, removeIfExists, rename, writeFileSynced } from './durable-fs';
import { spoolMetaSchema } from './entry';
import type { CommitJournal, JournalCommit } from './journal';
import { emlName, metaName, type SpoolLayout } from './layout';

/**
 * Before the spool scan at start: every message the journal holds as committed and not done gets complete
 * files in messages/ — it may have had none yet (it was in its first attempt), or a crash may have cut
 * their writing short. Damaged or missing files are rewritten from the journal copy; a valid metadata file
 * already there (a later state change, fsync'd on its own) is kept. When a file cannot be written (the disk
 * is full), the message stays journal-only: it is returned and its segment kept until a later checkpoint
 * manages. A message with a done record is not brought back (its done mark may not have reached the
 * journal before the crash).
 */
export async function restoreFromJournal(
  layout: SpoolLayout,
  journal: CommitJournal,
  isDone: (id: string) => boolean,
): Promise<{ pending: number; restored: number; stillPending: Map<string, JournalCommit> }> {
  const pending = await journal.replay();
  const stillPending = new Map<string, JournalCommit>();
  let restored = 0;
  for (const [id, commit] of pending) {
    if (isDone(id)) continue;
    try {
      if (await restoreOne(layout, id, commit)) restored++;
    } catch (e) {
      if (!isNoSpace(e)) throw e;
      stillPending.set(id, commit);
    }
  }
  await fsyncDirectory(layout.messages);
  await journal.adoptOldSegments(stillPending);
  return { pending: pending.size, restored, stillPending };
}

async function restoreOne(layout: SpoolLayout, id: string, { meta, body }: JournalCommit): Promise<boolean> {
  const emlPath = join(layout.messages, emlName(id));
  const metaPath = join(layout.messages, metaName(id));
  const current = await readFile(emlPath).catch(() => undefined);
  let repaired = false;
  if (!current?.equals(body)) {
    await writeThrough(layout, emlName(id), body, emlPath);
    repaired = true;
  } else await syncFile(emlPath);
  const onDisk = spoolMetaSchema.safeParse(await readJson(metaPath));
  if (!onDisk.success || onDisk.data.envelope.messageId !== id) {
    await writeThrough(layout, metaName(id), JSON.stringify(meta), metaPath);
    repaired = true;
  } else await syncFile(metaPath);
  return repaired;
}

async function writeThrough(
  layout: SpoolLayout,
  name: string,
  data: string | Buffer,
  target: string,
): Promise<void> {
  const tmp = join(layout.tmp, name);
  try {
    await writeFileSynced(tmp, data);
    await rename(tmp, target);
  } catch (e) {
    await removeIfExists(tmp).catch(() => undefined);
    throw e;
  }
}

async function syncFile(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.datasync();
  } finally {
    await h.close();
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
