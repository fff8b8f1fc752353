import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * The few file operations the spool's durability rests on (mox moxio/syncdir.go): data is on disk only after
 * fsync of the file, and a rename is durable only after fsync of the directory that received the name.
 */

/** fsync a directory so the names created, renamed or removed in it survive a power cut. */
export async function fsyncDirectory(path: string): Promise<void> {
  // Windows cannot open a directory for fsync; NTFS journals the rename itself (MoveFileEx), so skip it there.
  if (process.platform === 'win32') return;
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p whose result survives a power cut: a new directory's name lives in its parent, so the parent of
 * every directory this call created is fsync'd (top down) before it returns.
 */
export async function mkdirDurable(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    created.unshift(dir);
    if (dir === resolve(first) || dirname(dir) === dir) break;
  }
  for (const dir of created) await fsyncDirectory(dirname(dir));
}

/** Writes a small file and fsyncs it; the caller renames it into place. */
export async function writeFileSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Best-effort removal for cleanup paths: a missing file is fine, anything else is reported to the caller's log. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export { rename };

/** True for the errors a full disk or an exhausted quota produce. */
export function isNoSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
