import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

import { type Envelope, envelopeSchema } from '../../core/envelope';
import { BridgeError, bridgeError } from '../../core/errors';
import type { SpoolCapacity } from './capacity';
import { isNoSpace, removeIfExists, rename } from './durable-fs';
import { SPOOL_META_VERSION, type SpoolMeta } from './entry';
import { HeldMessage } from './held-message';
import type { CommitJournal } from './journal';
import type { MemoryBudget } from './memory-budget';
import { emlName, metaName } from './layout';

/** What the spool gives a writer: where to write, the quota, and how to make and register a commit. */
export interface IntakeContext {
  tmpDir: string;
  messagesDir: string;
  capacity: SpoolCapacity;
  syncMessagesDir(): Promise<void>;
  journal: CommitJournal;
  /** Bytes of bodies held in memory across all writers and journal-only entries. */
  memory: MemoryBudget;
  /** `body` is given when the message is in the journal only (no files written yet). */
  committed(id: string, meta: SpoolMeta, body?: HeldMessage): void;
}

/** The envelope as the SMTP session knows it; the spool adds messageId and receivedAt. */
export type EnvelopeParts = Omit<Envelope, 'messageId' | 'receivedAt'>;

/**
 * Messages up to this size — and while the spool's memory budget allows — stay in memory while they arrive
 * and are committed by one grouped append to the commit journal (journal.ts): no file is created for them on
 * the way to the 250. That matters: creating a file costs far more than appending to one (on the build
 * machines ~0.7 ms of kernel time per create against ~10 µs per append), and most messages are done within
 * milliseconds, so their files would only be created to be deleted. The spool writes their files only if
 * they have to wait (Spool.saveMeta, the checkpoint). The first POST to the function uses the memory copy
 * too. Larger messages stream to a temp file and are fsync'd on their own.
 */
export const KEEP_IN_MEMORY_BYTES = 4 * 1024 * 1024;
/** Streamed messages are written in chunks of this size. */
const FLUSH_BYTES = 256 * 1024;

/**
 * Receives one message into the spool and makes it durable in `commit`: a small one by the journal append,
 * a large one as <id>.eml and <id>.json in messages/ (metadata renamed in last: it is the commit marker)
 * with fsync of both files and of the directory (grouped with concurrent commits). Only after `commit`
 * resolves may the client get a 2xx. A full quota or disk makes the writer fail with SPOOL_FULL and stop
 * writing while the caller keeps draining the SMTP stream; `discard` leaves nothing behind.
 */
export class SpoolWriter {
  readonly id: string;
  readonly #ctx: IntakeContext;
  #handle: FileHandle | undefined;
  #kept: Buffer[] | undefined = [];
  #held: HeldMessage | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #bytes = 0;
  #failure: BridgeError | undefined;
  #finished = false;

  constructor(ctx: IntakeContext, id: string) {
    this.#ctx = ctx;
    this.id = id;
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The whole message while it is small enough to be held in memory (see KEEP_IN_MEMORY_BYTES), as the chunks
   * it arrived in: the commit and the first forward both use them without joining (held-message.ts).
   */
  get body(): HeldMessage | undefined {
    if (!this.#kept) return undefined;
    this.#held ??= new HeldMessage([...this.#kept], this.#bytes);
    return this.#held;
  }

  /** Set once writing failed (quota, disk); later chunks are dropped. */
  get failure(): BridgeError | undefined {
    return this.#failure;
  }

  /** Never throws: a failure is remembered so the caller can keep reading the SMTP stream to its end. */
  async write(chunk: Buffer): Promise<void> {
    if (this.#failure || this.#finished) return;
    const full = this.#ctx.capacity.problem(chunk.length);
    if (full) {
      this.#fail(full);
      return;
    }
    this.#ctx.capacity.receiving(chunk.length);
    this.#bytes += chunk.length;
    if (this.#kept && this.#bytes <= KEEP_IN_MEMORY_BYTES && this.#ctx.memory.tryReserve(chunk.length)) {
      this.#kept.push(chunk);
      return;
    }
    if (this.#kept) {
      // Too big for memory (or the memory budget is spent): from here on it streams to a temp file.
      this.#ctx.memory.release(this.#bytes - chunk.length);
      this.#pending = this.#kept;
      this.#pendingBytes = this.#bytes - chunk.length;
      this.#kept = undefined;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.#flush();
  }

  /**
   * Makes the message durable. Records the first forward attempt as begun (attempts 1, retry at
   * `nextAttemptAtMs`), because the caller posts it to the function right away: a crash during that POST
   * must lead to a paced retry, not an immediate one.
   */
  async commit(parts: EnvelopeParts, nextAttemptAtMs: number): Promise<SpoolMeta> {
    if (this.#failure) throw this.#failure;
    const receivedAt = new Date().toISOString();
    const envelope = envelopeSchema.safeParse({ ...parts, messageId: this.id, receivedAt });
    if (!envelope.success) {
      await this.discard();
      throw bridgeError('INTERNAL', {
        detail: `envelope invalid at ${envelope.error.issues[0]?.path.join('.') ?? '?'}`,
      });
    }
    const meta: SpoolMeta = {
      version: SPOOL_META_VERSION,
      envelope: envelope.data,
      mimeBytes: this.#bytes,
      state: 'queued',
      attempts: 1,
      lastAttemptAt: receivedAt,
      nextAttemptAt: new Date(nextAttemptAtMs).toISOString(),
    };
    const paths = {
      tmpEml: join(this.#ctx.tmpDir, emlName(this.id)),
      tmpMeta: join(this.#ctx.tmpDir, metaName(this.id)),
      eml: join(this.#ctx.messagesDir, emlName(this.id)),
      meta: join(this.#ctx.messagesDir, metaName(this.id)),
    };
    const body = this.body;
    try {
      if (body) await this.#ctx.journal.commit(meta, body);
      else await this.#commitStreamed(meta, paths);
    } catch (e) {
      this.#releaseKept();
      await this.#handle?.close().catch(() => undefined);
      await cleanup([paths.tmpEml, paths.tmpMeta, paths.meta, paths.eml]);
      this.#ctx.capacity.receiving(-this.#bytes);
      this.#finished = true;
      throw storeError(e);
    }
    this.#finished = true;
    this.#ctx.capacity.receiving(-this.#bytes);
    this.#ctx.committed(this.id, meta, body);
    return meta;
  }

  /** Drops the message (refused, failed or the client went away). Safe to call more than once. */
  async discard(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#pending = [];
    this.#releaseKept();
    this.#ctx.capacity.receiving(-this.#bytes);
    if (this.#handle) {
      await this.#handle.close().catch(() => undefined);
      await cleanup([join(this.#ctx.tmpDir, emlName(this.id))]);
    }
  }

  async #commitStreamed(
    meta: SpoolMeta,
    p: Record<'tmpEml' | 'tmpMeta' | 'eml' | 'meta', string>,
  ): Promise<void> {
    await this.#flush();
    if (this.#failure) throw this.#failure;
    const handle = this.#handle!;
    const metaHandle = await open(p.tmpMeta, 'wx', 0o600);
    try {
      await metaHandle.writeFile(JSON.stringify(meta));
      await rename(p.tmpEml, p.eml);
      await rename(p.tmpMeta, p.meta);
      // The three fsyncs (message, metadata, directory) run together so the file system can commit them in
      // one transaction; all finish before the caller may answer 250. A crash before that can leave a
      // complete-looking entry that was never acknowledged: it is then delivered (at-least-once: the
      // device's resend makes a second copy) or, if torn, quarantined by recovery.
      await Promise.all([handle.datasync(), metaHandle.datasync(), this.#ctx.syncMessagesDir()]);
    } finally {
      await metaHandle.close();
    }
    await handle.close();
    this.#handle = undefined;
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0 || this.#failure) return;
    // The chunks go down as they arrived, in one writev: joining them first would make a copy of every
    // streamed message that lives until V8's next collection (docs/design/edge-memory.md).
    const chunks = this.#pending;
    const total = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      this.#handle ??= await open(join(this.#ctx.tmpDir, emlName(this.id)), 'wx', 0o600);
      const { bytesWritten } = await this.#handle.writev(chunks);
      if (bytesWritten < total) {
        // A write to a regular file may in principle be short; loop until all of it is down.
        const rest = Buffer.concat(chunks, total).subarray(bytesWritten);
        for (let off = 0; off < rest.length;) {
          const r = await this.#handle.write(rest, off, rest.length - off);
          off += r.bytesWritten;
        }
      }
    } catch (e) {
      this.#fail(storeError(e));
    }
  }

  #fail(err: BridgeError): void {
    this.#failure = err;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#releaseKept();
  }

  /** Gives the memory of a body that will not be committed back to the budget. */
  #releaseKept(): void {
    if (this.#kept) this.#ctx.memory.release(this.#bytes);
    this.#kept = undefined;
    this.#held = undefined;
  }
}

function storeError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  return isNoSpace(e)
    ? bridgeError('SPOOL_FULL', { detail: 'disk full', cause: e })
    : bridgeError('SPOOL_WRITE_FAILED', {
        detail: (e as NodeJS.ErrnoException).code ?? 'write failed',
        cause: e,
      });
}

async function cleanup(paths: string[]): Promise<void> {
  for (const p of paths) {
    try {
      await removeIfExists(p);
    } catch {
      // best effort: recovery at the next start removes tmp/ leftovers
    }
  }
}
