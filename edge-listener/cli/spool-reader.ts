import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { readDoneLog } from '../spool/done-log';
import { type SpoolEntry, spoolMetaSchema, type SpoolState } from '../spool/entry';
import { doneEntry, liveEntry } from '../spool/entry-view';
import { metaName, type SpoolLayout } from '../spool/layout';
import { isSpoolId } from '../spool/spool-id';

/**
 * Reads the spool from disk without its lock, so `queue list` and `queue show` work while a listener runs
 * (or while none does, or when it is wedged). Safe because every state change in the spool is an atomic
 * rename of a complete .json: a reader sees the old or the new file, never half of one, and a file renamed
 * away between readdir and read is simply skipped. Only the running process knows which entries are in
 * flight, so those show as queued or deferred here.
 */
export class SpoolReader {
  readonly #layout: SpoolLayout;

  constructor(layout: SpoolLayout) {
    this.#layout = layout;
  }

  async list(
    filter: { states?: SpoolState[]; limit?: number } = {},
    nowMs = Date.now(),
  ): Promise<SpoolEntry[]> {
    const want = (s: SpoolState) => !filter.states || filter.states.includes(s);
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const out: SpoolEntry[] = [];
    for (const id of await this.#ids(this.#layout.messages, false)) {
      if (out.length >= limit) return out;
      const entry = await this.#live(id, nowMs);
      if (entry && want(entry.state)) out.push(entry);
    }
    if (want('done')) {
      const done = await readDoneLog(this.#layout.doneLog);
      for (const [id, r] of [...done].reverse()) {
        if (out.length >= limit) break;
        out.push(doneEntry(id, r));
      }
    }
    return out;
  }

  async get(id: string, nowMs = Date.now()): Promise<SpoolEntry | undefined> {
    if (!isSpoolId(id)) return undefined;
    return (await this.#live(id, nowMs)) ?? (await this.#done(id));
  }

  /** Entries that could not be read back and were set aside (never deleted). */
  async quarantined(): Promise<string[]> {
    return (await readdirOrEmpty(this.#layout.quarantine)).filter((n) => !n.endsWith('.reason.json')).sort();
  }

  async #ids(dir: string, newestFirst: boolean): Promise<string[]> {
    const ids = (await readdirOrEmpty(dir))
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter(isSpoolId)
      .sort();
    return newestFirst ? ids.reverse() : ids;
  }

  async #live(id: string, nowMs: number): Promise<SpoolEntry | undefined> {
    const parsed = spoolMetaSchema.safeParse(await readJson(join(this.#layout.messages, metaName(id))));
    if (!parsed.success) return undefined;
    const meta = parsed.data;
    const state: SpoolState =
      meta.state === 'failed' || meta.state === 'cloud'
        ? meta.state
        : Date.parse(meta.nextAttemptAt) <= nowMs
          ? 'queued'
          : 'deferred';
    return liveEntry(id, state, meta);
  }

  async #done(id: string): Promise<SpoolEntry | undefined> {
    const r = (await readDoneLog(this.#layout.doneLog)).get(id);
    return r ? doneEntry(id, r) : undefined;
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
