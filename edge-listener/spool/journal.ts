import { type FileHandle, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { fsyncDirectory, mkdirDurable } from './durable-fs';
import { type SpoolMeta, spoolMetaSchema } from './entry';
import type { HeldMessage } from './held-message';

/**
 * The spool's commit journal: group commit for small messages (docs/design/toolchain.md §smtp-server: once smtp-server's
 * greeting delay is gone, fsync per message is the limit). A committed message is appended — metadata and
 * bytes — to the current journal segment, and ONE fdatasync of that segment makes every message appended
 * since the last one durable together, however many sessions finished at the same moment. No file is
 * written for it in messages/ on the way to the 250: it lives in the journal and in memory (spool.ts).
 *
 * Most messages are done (sent, function-queued) milliseconds later; a 'done' record is appended for them
 * and a segment is deleted once every message in it is done. A message that stays longer gets files of its
 * own in messages/, written and fsync'd: when its metadata is first saved (a deferral, a retry, a failure:
 * Spool.saveMeta) or when its segment has aged (checkpoint.ts); the segment is then no longer needed for it.
 * After a crash, replay() returns every committed message without a done record, so recovery
 * (journal-recovery.ts) writes its files from the journal copy.
 *
 * Record: 'SGJ1' | type (C commit, D done) | payload length u32 | crc32(payload) u32 | payload
 *   C payload: meta JSON length u32 | meta JSON | raw message
 *   D payload: id
 * A torn tail (the crash came mid-append) fails its length or crc and ends the replay of that segment.
 */
const MAGIC = Buffer.from('SGJ1');
const HEADER_BYTES = 13;
const SEGMENT_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SEGMENT_MAX_AGE_MS = 2000;

export interface JournalCommit {
  meta: SpoolMeta;
  body: Buffer;
  /** The segment the commit was read from (replay). */
  segmentPath?: string;
}

interface Segment {
  seq: number;
  path: string;
  /** Open for appending; undefined for a segment taken over from a previous run (only read, then deleted). */
  handle: FileHandle | undefined;
  openedAt: number;
  bytes: number;
  /** A write failed (disk full): its tail may be torn, so nothing more is appended here. */
  broken: boolean;
  /** Ids committed here that are neither done nor checkpointed. */
  live: Set<string>;
}

interface QueuedRecord {
  buffers: Buffer[];
  bytes: number;
  id: string | undefined;
  resolve: (segment: Segment) => void;
  reject: (e: unknown) => void;
}

interface Waiter {
  segment: Segment;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class CommitJournal {
  readonly #dir: string;
  readonly #segments: Segment[] = [];
  readonly #segmentOf = new Map<string, Segment>();
  #nextSeq: number;
  readonly #maxAgeMs: number;
  #waiting: Waiter[] = [];
  #syncing = false;
  readonly #queue: QueuedRecord[] = [];
  #writing = false;
  #writeLoop: Promise<void> = Promise.resolve();
  /**
   * Ids appended but not yet made durable (their commit() has not resolved). They are live — their segment
   * must stay — but not checkpointable: the spool has no copy of them to write yet, so a checkpoint would
   * count them settled with no files, retire their segment, and the fdatasync (or the 250 after it) would
   * be left without the only durable copy (docs/design/edge-ingest.md §checkpoint race).
   */
  readonly #unsynced = new Set<string>();

  private constructor(dir: string, nextSeq: number, maxAgeMs: number) {
    this.#dir = dir;
    this.#nextSeq = nextSeq;
    this.#maxAgeMs = maxAgeMs;
  }

  /** Opens the journal directory; `replay` must be called before the first commit when segments exist. */
  static async open(dir: string, segmentMaxAgeMs = DEFAULT_SEGMENT_MAX_AGE_MS): Promise<CommitJournal> {
    await mkdirDurable(dir);
    const seqs = (await segmentFiles(dir)).map((f) => f.seq);
    return new CommitJournal(dir, (seqs.length > 0 ? Math.max(...seqs) : 0) + 1, segmentMaxAgeMs);
  }

  /** Every message committed in the existing segments and not marked done, in commit order. */
  async replay(): Promise<Map<string, JournalCommit>> {
    const pending = new Map<string, JournalCommit>();
    for (const { path } of await segmentFiles(this.#dir)) {
      for (const rec of await readRecords(path)) {
        if (rec.type === 'C')
          pending.set(rec.commit.meta.envelope.messageId, { ...rec.commit, segmentPath: path });
        else pending.delete(rec.id);
      }
    }
    return pending;
  }

  /**
   * After replay: the segments of a previous run are deleted, except those still holding a message whose
   * files could not be written yet (`stillPending`, e.g. the disk is full); those stay until the message is
   * done or checkpointed, like segments of this run.
   */
  async adoptOldSegments(stillPending: Map<string, JournalCommit>): Promise<void> {
    for (const { seq, path } of await segmentFiles(this.#dir)) {
      const ids = [...stillPending].filter(([, c]) => c.segmentPath === path).map(([id]) => id);
      if (ids.length === 0) {
        await unlink(path);
        continue;
      }
      const seg: Segment = {
        seq,
        path,
        handle: undefined,
        openedAt: 0,
        bytes: 0,
        broken: true,
        live: new Set(ids),
      };
      this.#segments.push(seg);
      for (const id of ids) this.#segmentOf.set(id, seg);
    }
  }

  /** Appends a committed message and resolves once it is durable (grouped with concurrent commits). */
  async commit(meta: SpoolMeta, body: HeldMessage): Promise<void> {
    const json = Buffer.from(JSON.stringify(meta));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(json.length);
    const id = meta.envelope.messageId;
    try {
      const segment = await this.#append('C', [len, json, ...body.parts], id);
      await this.#sync(segment);
    } finally {
      this.#unsynced.delete(id);
    }
  }

  /** Records that a message is finished (sent, rejected, deleted); made durable by the next commit's sync. */
  async done(id: string): Promise<void> {
    const seg = this.#segmentOf.get(id);
    if (!seg) return;
    this.#segmentOf.delete(id);
    seg.live.delete(id);
    await this.#append('D', [Buffer.from(id, 'ascii')]);
    await this.#retire();
  }

  /**
   * Ids whose only durable copy is still a segment old enough to be closed; checkpoint them. A commit still
   * waiting for its fdatasync is not one of them (#unsynced).
   */
  idsToCheckpoint(now: number): string[] {
    return this.#segments
      .filter((s) => s !== this.#current(now) && s.live.size > 0)
      .flatMap((s) => [...s.live])
      .filter((id) => !this.#unsynced.has(id));
  }

  /** The caller made these messages' own files durable: the journal no longer has to keep them. */
  async checkpointed(ids: string[]): Promise<void> {
    for (const id of ids) {
      this.#segmentOf.get(id)?.live.delete(id);
      this.#segmentOf.delete(id);
    }
    await this.#retire();
  }

  async close(): Promise<void> {
    await this.#writeLoop;
    for (const seg of this.#segments) await seg.handle?.close().catch(() => undefined);
    this.#segments.length = 0;
  }

  #current(now = Date.now()): Segment | undefined {
    const seg = this.#segments[this.#segments.length - 1];
    if (!seg || seg.broken || seg.bytes >= SEGMENT_BYTES || now - seg.openedAt >= this.#maxAgeMs)
      return undefined;
    return seg;
  }

  /** Appends are chained so records never interleave; each append is one write call. */
  /**
   * Queues a record; records queued while a write is running go out together in the next writev, so
   * concurrent commits cost one write call as well as one fdatasync. Records never interleave.
   */
  #append(type: 'C' | 'D', parts: Buffer[], id?: string): Promise<Segment> {
    // The parts go to writev as they are: no copy of the body just to frame it.
    let length = 0;
    let crc = 0;
    for (const part of parts) {
      length += part.length;
      crc = crc32(part, crc);
    }
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.write(type, 4, 'ascii');
    header.writeUInt32BE(length, 5);
    header.writeUInt32BE(crc, 9);
    return new Promise<Segment>((resolve, reject) => {
      this.#queue.push({
        buffers: [header, ...parts],
        bytes: HEADER_BYTES + length,
        id,
        resolve,
        reject,
      });
      if (!this.#writing) this.#writeLoop = this.#runWrites();
    });
  }

  async #runWrites(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      try {
        const seg = this.#current() ?? (await this.#rotate());
        try {
          await writeAll(
            seg.handle!,
            batch.flatMap((r) => r.buffers),
          );
        } catch (e) {
          seg.broken = true; // a torn record may follow; replay stops there, so later records go elsewhere
          throw e;
        }
        for (const r of batch) {
          seg.bytes += r.bytes;
          if (r.id) {
            this.#unsynced.add(r.id);
            seg.live.add(r.id);
            this.#segmentOf.set(r.id, seg);
          }
          r.resolve(seg);
        }
      } catch (e) {
        for (const r of batch) r.reject(e);
      }
    }
    this.#writing = false;
  }

  async #rotate(): Promise<Segment> {
    const seq = this.#nextSeq++;
    const path = join(this.#dir, `${String(seq).padStart(10, '0')}.log`);
    const handle = await open(path, 'a', 0o600);
    // The segment's name must be durable before any commit in it is acknowledged: an fdatasync of the file
    // alone leaves a power cut free to drop the new name, and the messages with it (durable-fs.ts).
    try {
      await fsyncDirectory(this.#dir);
    } catch (e) {
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw e;
    }
    const seg: Segment = {
      seq,
      path,
      handle,
      openedAt: Date.now(),
      bytes: 0,
      broken: false,
      live: new Set(),
    };
    this.#segments.push(seg);
    await this.#retire();
    return seg;
  }

  /** Deletes closed segments that no longer hold a message that still needs them. */
  async #retire(): Promise<void> {
    const current = this.#segments[this.#segments.length - 1];
    for (const seg of [...this.#segments]) {
      if (seg === current || seg.live.size > 0) continue;
      this.#segments.splice(this.#segments.indexOf(seg), 1);
      await seg.handle?.close().catch(() => undefined);
      await unlink(seg.path).catch(() => undefined);
    }
  }

  /**
   * Group fdatasync: callers arriving during a sync share the next one (see dir-sync.ts). Each waits for its
   * own segment, so a rotation between its append and the sync cannot leave its record unsynced.
   */
  #sync(segment: Segment): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ segment, resolve, reject });
      if (!this.#syncing) void this.#runSyncs();
    });
  }

  async #runSyncs(): Promise<void> {
    this.#syncing = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      for (const segment of new Set(batch.map((w) => w.segment))) {
        const waiters = batch.filter((w) => w.segment === segment);
        try {
          await segment.handle?.datasync();
          for (const w of waiters) w.resolve();
        } catch (e) {
          for (const w of waiters) w.reject(e);
        }
      }
    }
    this.#syncing = false;
  }
}

/** writev until every byte is down (a write to a regular file may in principle be short). */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    while (rest.length > 0 && bytesWritten >= rest[0]!.length) {
      bytesWritten -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length > 0 && bytesWritten > 0) rest = [rest[0]!.subarray(bytesWritten), ...rest.slice(1)];
  }
}

async function segmentFiles(dir: string): Promise<Array<{ seq: number; path: string }>> {
  return (await readdir(dir))
    .filter((n) => /^\d{10}\.log$/.test(n))
    .sort()
    .map((n) => ({ seq: Number(n.slice(0, 10)), path: join(dir, n) }));
}

type JournalRecord = { type: 'C'; commit: JournalCommit } | { type: 'D'; id: string };

async function readRecords(path: string): Promise<JournalRecord[]> {
  const data = await readFile(path);
  const out: JournalRecord[] = [];
  for (let off = 0; off + HEADER_BYTES <= data.length;) {
    if (!data.subarray(off, off + 4).equals(MAGIC)) break;
    const type = String.fromCharCode(data[off + 4]!);
    const length = data.readUInt32BE(off + 5);
    const crc = data.readUInt32BE(off + 9);
    const payload = data.subarray(off + HEADER_BYTES, off + HEADER_BYTES + length);
    if (payload.length !== length || crc32(payload) !== crc) break; // torn tail
    off += HEADER_BYTES + length;
    if (type === 'D') {
      out.push({ type: 'D', id: payload.toString('ascii') });
    } else if (type === 'C') {
      const metaLength = payload.readUInt32BE(0);
      const meta = spoolMetaSchema.safeParse(
        JSON.parse(payload.subarray(4, 4 + metaLength).toString('utf8')),
      );
      if (meta.success)
        out.push({
          type: 'C',
          commit: { meta: meta.data, body: Buffer.from(payload.subarray(4 + metaLength)) },
        });
    }
  }
  return out;
}
