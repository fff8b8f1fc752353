import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { Logger } from '../../core/log';
import { type SpoolMeta, spoolMetaSchema } from './entry';
import { emlName, metaName, type SpoolLayout } from './layout';
import { quarantineFiles } from './quarantine';
import { isSpoolId } from './spool-id';
import { removeIfExists } from './durable-fs';

export interface Recovered {
  entries: Map<string, SpoolMeta>;
  tmpRemoved: number;
  quarantined: number;
}

/**
 * Rebuilds the spool's picture from disk at start. Leftovers in tmp/ were never acknowledged to a client
 * (the 250 comes only after the rename into messages/ is fsync'd), so they are removed. Every entry in
 * messages/ must be a readable .json with a .eml of the recorded size; anything else is quarantined, except
 * a bare .eml of a message whose done record exists (a crash between the two unlinks of a finished message).
 */
export async function recoverSpool(
  layout: SpoolLayout,
  isDone: (id: string) => boolean,
  logger: Logger,
): Promise<Recovered> {
  let tmpRemoved = 0;
  for (const name of await readdir(layout.tmp)) {
    await removeIfExists(join(layout.tmp, name));
    tmpRemoved++;
  }

  const names = new Set(await readdir(layout.messages));
  const entries = new Map<string, SpoolMeta>();
  let quarantined = 0;
  const quarantine = async (files: string[], reason: string) => {
    quarantined++;
    await quarantineFiles(layout, layout.messages, files, reason, logger);
  };
  const seen = new Set<string>();
  for (const name of [...names].sort()) {
    const m = /^(.+)\.(eml|json)$/.exec(name);
    const id = m?.[1];
    if (!id || !isSpoolId(id)) {
      await quarantine([name], 'not a spool file name');
      continue;
    }
    if (seen.has(id)) continue;
    seen.add(id);
    const hasEml = names.has(emlName(id));
    const hasMeta = names.has(metaName(id));
    if (!hasMeta) {
      if (isDone(id)) await removeIfExists(join(layout.messages, emlName(id)));
      else await quarantine([emlName(id)], 'message without metadata');
      continue;
    }
    if (!hasEml) {
      await quarantine([metaName(id)], 'metadata without message');
      continue;
    }
    const problem = await checkEntry(layout, id);
    if (typeof problem === 'string') await quarantine([emlName(id), metaName(id)], problem);
    else entries.set(id, problem);
  }
  return { entries, tmpRemoved, quarantined };
}

/** Reads and validates one entry: its metadata, or a problem text. */
export async function checkEntry(layout: SpoolLayout, id: string): Promise<SpoolMeta | string> {
  let meta: SpoolMeta;
  try {
    const parsed = spoolMetaSchema.safeParse(
      JSON.parse(await readFile(join(layout.messages, metaName(id)), 'utf8')),
    );
    if (!parsed.success) return `metadata invalid at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`;
    meta = parsed.data;
  } catch (e) {
    return `metadata unreadable: ${(e as Error).message}`;
  }
  if (meta.envelope.messageId !== id) return 'metadata belongs to another id';
  try {
    const s = await stat(join(layout.messages, emlName(id)));
    if (s.size !== meta.mimeBytes) return `message is ${s.size} bytes, metadata says ${meta.mimeBytes}`;
  } catch (e) {
    return `message unreadable: ${(e as Error).message}`;
  }
  return meta;
}
