import { access, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Logger } from '../../core/log';
import type { SpoolLayout } from './layout';

/**
 * Moves files the spool cannot use into quarantine/ with a note saying why, and logs SPOOL_QUARANTINED.
 * Nothing here deletes: a message that could not be read back may still be the only copy of someone's scan.
 */
export async function quarantineFiles(
  layout: SpoolLayout,
  fromDir: string,
  names: string[],
  reason: string,
  logger: Logger,
): Promise<void> {
  const moved: string[] = [];
  for (const name of names) {
    const target = await freeName(join(layout.quarantine, name));
    try {
      await rename(join(fromDir, name), target);
      moved.push(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  if (moved.length === 0) return;
  const note = { reason, from: fromDir, files: moved, at: new Date().toISOString() };
  try {
    await writeFile(`${moved[0]}.reason.json`, JSON.stringify(note, null, 2));
  } catch (e) {
    // A full disk must not stop the listener from starting over a quarantine note; the log line has the reason.
    logger.warn(
      { event: 'SPOOL_WRITE_FAILED', detail: 'quarantine note', files: names, err: e },
      'could not write the quarantine note',
    );
  }
  logger.warn({ event: 'SPOOL_QUARANTINED', files: names, reason }, 'spool entry quarantined');
}

async function freeName(path: string): Promise<string> {
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${path}.${i}`;
    try {
      await access(candidate);
    } catch {
      return candidate;
    }
  }
}
