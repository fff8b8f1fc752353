import { type FileHandle, open, readFile, rename, writeFile } from 'node:fs/promises';

import type { Logger } from '../../core/log';
import { type DoneRecord, doneRecordSchema } from './entry';
import { spoolIdTimeMs } from './spool-id';

/**
 * Records of finished messages (sent, queued by the function, rejected while the client waited) for the
 * status page and `queue show`: the envelope and the function's answer, never the body. At most `keep` of
 * them, none older than `keepMs`.
 *
 * They live in one append-only file of JSON lines (spool/done.log) and in memory. Appends are batched (the
 * records of messages finishing together go out in one write) and not fsync'd: losing the last few in a
 * power cut only means the status page forgets them — the message itself was handed over, and one that
 * comes back is re-posted and answered from the function's idempotency record. A file per record was the
 * first design; creating files is the expensive file operation on a small machine (intake-writer.ts), and
 * this keeps it out of the per-message path. When the file holds twice `keep` lines it is rewritten with
 * the kept records (temp file + rename, so a reader sees the old or the new file, never half of one).
 * A removed record gets a tombstone line.
 */
type LogLine = (DoneRecord & { id: string }) | { id: string; removed: true };

export class DoneLog {
  readonly #path: string;
  readonly #keep: number;
  readonly #keepMs: number;
  readonly #logger: Logger;
  /** Kept records, oldest first (Map keeps insertion order). */
  readonly #records = new Map<string, DoneRecord>();
  #lines = 0;
  #handle: FileHandle | undefined;
  #queue: string[] = [];
  #writing: Promise<void> | undefined;

  private constructor(path: string, keep: number, keepMs: number, logger: Logger) {
    this.#path = path;
    this.#keep = keep;
    this.#keepMs = keepMs;
    this.#logger = logger;
  }

  static async open(path: string, keep: number, keepMs: number, logger: Logger): Promise<DoneLog> {
    const log = new DoneLog(path, keep, keepMs, logger);
    for (const [id, rec] of await readDoneLog(path)) log.#records.set(id, rec);
    log.#trim();
    await log.#compact();
    return log;
  }

  get count(): number {
    return this.#records.size;
  }

  /** Whether a record of this id is kept (a finished message must not be resurrected). */
  has(id: string): boolean {
    return this.#records.has(id);
  }

  async add(id: string, record: DoneRecord): Promise<void> {
    if (this.#keep === 0) return;
    this.#records.delete(id);
    this.#records.set(id, record);
    this.#trim();
    await this.#append({ id, ...record });
  }

  get(id: string): DoneRecord | undefined {
    return this.#records.get(id);
  }

  /** Ids of the kept records, newest first. */
  ids(): string[] {
    return [...this.#records.keys()].reverse();
  }

  async remove(id: string): Promise<boolean> {
    if (!this.#records.delete(id)) return false;
    await this.#append({ id, removed: true });
    return true;
  }

  async close(): Promise<void> {
    await this.#writing;
    await this.#handle?.close();
    this.#handle = undefined;
  }

  #trim(now = Date.now()): void {
    const cutoff = now - this.#keepMs;
    for (const id of this.#records.keys()) {
      if (this.#records.size <= this.#keep && (spoolIdTimeMs(id) ?? 0) >= cutoff) break;
      this.#records.delete(id);
    }
  }

  /** Queues a line; lines queued during a write go out together in the next one. */
  #append(line: LogLine): Promise<void> {
    this.#queue.push(`${JSON.stringify(line)}\n`);
    this.#writing ??= this.#runWrites();
    return this.#writing;
  }

  async #runWrites(): Promise<void> {
    try {
      await this.#writeQueued();
    } finally {
      // Same synchronous step as the loop's last check: no line can slip in between.
      this.#writing = undefined;
    }
  }

  async #writeQueued(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        this.#handle ??= await open(this.#path, 'a', 0o600);
        await this.#handle.write(batch.join(''));
        this.#lines += batch.length;
        if (this.#lines > 2 * Math.max(this.#keep, 100)) await this.#compact();
      } catch (e) {
        // The history is a convenience: a failed write must not fail the message it describes.
        this.#logger.warn(
          { event: 'SPOOL_WRITE_FAILED', detail: 'done log', err: e },
          'could not record a finished message',
        );
      }
    }
  }

  /** Rewrites the file with only the kept records. */
  async #compact(): Promise<void> {
    const text = [...this.#records].map(([id, rec]) => `${JSON.stringify({ id, ...rec })}\n`).join('');
    const tmp = `${this.#path}.new`;
    await writeFile(tmp, text, { mode: 0o600 });
    await this.#handle?.close();
    this.#handle = undefined;
    await rename(tmp, this.#path);
    const dropped = this.#lines - this.#records.size;
    this.#lines = this.#records.size;
    if (dropped > 0)
      this.#logger.debug(
        { event: 'SPOOL_PRUNED', removed: dropped, kept: this.#records.size },
        'done log compacted',
      );
  }
}

/**
 * Reads the done log from outside the listener (the CLI, while a listener runs or not): the kept records
 * by id, oldest first. A torn last line (a write in progress or a crash) and unknown lines are skipped.
 */
export async function readDoneLog(path: string): Promise<Map<string, DoneRecord>> {
  const out = new Map<string, DoneRecord>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const v = value as { id?: unknown; removed?: unknown };
    if (typeof v.id !== 'string') continue;
    if (v.removed === true) {
      out.delete(v.id);
      continue;
    }
    const parsed = doneRecordSchema.safeParse(value);
    if (parsed.success && parsed.data.envelope.messageId === v.id) {
      out.delete(v.id);
      out.set(v.id, parsed.data);
    }
  }
  return out;
}
