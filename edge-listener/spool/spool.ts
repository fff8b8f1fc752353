import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

import { outcomeUnknown } from '../../core/custody';
import { type BridgeError, bridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { WireResult } from '../../core/wire';
import { SpoolCapacity } from './capacity';
import { checkpoint } from './checkpoint';
import { DoneLog } from './done-log';
import { mkdirDurable } from './durable-fs';
import {
  type DoneOutcome,
  type DoneRecord,
  SPOOL_META_VERSION,
  type SpoolEntry,
  type SpoolMeta,
  type SpoolState,
  type SpoolStats,
} from './entry';
import { doneEntry, liveEntry } from './entry-view';
import { HeldMessage } from './held-message';
import { SpoolWriter } from './intake-writer';
import { MemoryBudget } from './memory-budget';
import { CommitJournal } from './journal';
import { restoreFromJournal } from './journal-recovery';
import { emlName, metaName, type SpoolLayout, spoolLayout } from './layout';
import { SpoolLock } from './lock';
import { MessageFiles } from './message-files';
import { quarantineFiles } from './quarantine';
import { checkEntry, recoverSpool } from './recover';
import { newSpoolId } from './spool-id';
import { SpoolIndex } from './spool-index';
import { submissionId } from './submission-id';

export interface SpoolOptions {
  dataDir: string;
  instanceId: string;
  maxBytes: number;
  minFreeBytes: number;
  keepDone: number;
  keepDoneMs: number;
  /**
   * BRIDGE_RETENTION_MS (core/custody.ts): a failed entry's body is kept this long after failedAt, then
   * removed (its record stays in the log). Default: kept until an admin acts.
   */
  retentionMs?: number;
  logger: Logger;
  /** Bytes of message bodies held in memory at most (small messages until done; default 64 MiB). */
  memoryBytes?: number;
  /** Timing of the commit journal (tests shorten them): segment lifetime and checkpoint interval. */
  journalSegmentMaxAgeMs?: number;
  checkpointIntervalMs?: number;
}

/**
 * The durable spool: the only copy of every message between the 250 and the function's definite answer.
 *
 * A small message is committed by one grouped append to the commit journal and kept in memory during its
 * first attempt; it gets files in messages/ only if it has to wait (a deferral, a failure, the checkpoint).
 * A large one is written to messages/ and fsync'd at once. Either way its state lives on disk — journal or
 * files — and the in-memory index only mirrors it for scheduling and stats; a restart rebuilds everything
 * (journal replay, then the scan of messages/). One process owns a spool (SpoolLock). Emits 'due' when an
 * entry became due outside its schedule (an admin retry).
 *
 * Used by: the SMTP intake (beginMessage, capacityProblem), the forwarder (takeDue, claim, release,
 * readMeta, saveMeta, complete), operators and the status page (list, get, openMessage, readHead, stats,
 * retry, retryAllFailed, delete).
 */
export class Spool extends EventEmitter {
  readonly layout: SpoolLayout;
  readonly #opts: SpoolOptions;
  readonly #logger: Logger;
  readonly #capacity: SpoolCapacity;
  readonly #files: MessageFiles;
  readonly #lock: SpoolLock;
  readonly #index: SpoolIndex;
  readonly #memory: MemoryBudget;
  #journal: CommitJournal | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #checkpointing = false;
  #lastRetentionSweepMs = 0;
  #done!: DoneLog;

  private constructor(opts: SpoolOptions) {
    super();
    this.#opts = opts;
    this.#logger = opts.logger;
    this.layout = spoolLayout(opts.dataDir);
    this.#capacity = new SpoolCapacity(this.layout.root, opts.maxBytes, opts.minFreeBytes);
    this.#memory = new MemoryBudget(opts.memoryBytes ?? DEFAULT_MEMORY_BYTES);
    this.#index = new SpoolIndex(this.#capacity, this.#memory);
    this.#files = new MessageFiles(this.layout);
    this.#lock = new SpoolLock(this.layout.lockFile);
  }

  /** Creates the directories, takes the lock (SPOOL_IN_USE if another listener runs) and recovers. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const layout = spoolLayout(opts.dataDir);
    for (const dir of [layout.tmp, layout.messages, layout.quarantine, layout.journal])
      await mkdirDurable(dir);
    const spool = new Spool(opts);
    await spool.#lock.acquire();
    try {
      spool.#done = await DoneLog.open(layout.doneLog, opts.keepDone, opts.keepDoneMs, opts.logger);
      const isDone = (id: string) => spool.#done.has(id);
      spool.#journal = await CommitJournal.open(layout.journal, opts.journalSegmentMaxAgeMs);
      const replay = await restoreFromJournal(layout, spool.#journal, isDone);
      const r = await recoverSpool(layout, isDone, opts.logger);
      for (const [id, meta] of r.entries) spool.#index.put(id, meta);
      // messages whose files could not be written (disk full) stay journal-only, as in their first attempt
      for (const [id, c] of replay.stillPending) {
        spool.#memory.add(c.body.length);
        spool.#index.put(id, c.meta, HeldMessage.of(c.body));
      }
      await spool.#capacity.refresh(0);
      opts.logger.info(
        {
          event: 'SPOOL_RECOVERED',
          entries: r.entries.size,
          tmpRemoved: r.tmpRemoved,
          quarantined: r.quarantined,
          journalPending: replay.pending,
          journalRestored: replay.restored,
          dir: layout.root,
        },
        'spool ready',
      );
    } catch (e) {
      await spool.#journal?.close();
      await spool.#done?.close();
      spool.#lock.release();
      throw e;
    }
    spool.#checkpointTimer = setInterval(
      () => void spool.#checkpoint(),
      opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
    );
    spool.#checkpointTimer.unref();
    return spool;
  }

  async close(): Promise<void> {
    clearInterval(this.#checkpointTimer);
    await this.#journal?.close();
    this.#journal = undefined;
    await this.#done?.close();
    this.#lock.release();
  }

  // ── intake ────────────────────────────────────────────────────────────────────────────────────────

  /** SPOOL_FULL when `extraBytes` more would not fit (MAIL FROM with SIZE=), else undefined. */
  capacityProblem(extraBytes = 0): BridgeError | undefined {
    // Re-read free space (at most once a second) for the next question: without it, a "disk space low" seen
    // once stayed cached while every MAIL FROM was refused, so the disk freeing up was never noticed.
    void this.#capacity.refresh();
    return this.#capacity.problem(extraBytes);
  }

  /** Starts receiving a message under a new id. Throws SPOOL_FULL or SPOOL_WRITE_FAILED. */
  async beginMessage(): Promise<SpoolWriter> {
    await this.#capacity.refresh();
    const full = this.#capacity.problem();
    if (full) throw full;
    const journal = this.#journal;
    if (!journal) throw bridgeError('SPOOL_WRITE_FAILED', { detail: 'spool is closed' });
    return new SpoolWriter(
      {
        tmpDir: this.layout.tmp,
        messagesDir: this.layout.messages,
        capacity: this.#capacity,
        syncMessagesDir: () => this.#files.syncDirectory(),
        journal,
        memory: this.#memory,
        committed: (id, meta, body) => this.#index.put(id, meta, body),
      },
      newSpoolId(this.#opts.instanceId),
    );
  }

  // ── reading ───────────────────────────────────────────────────────────────────────────────────────

  async get(id: string): Promise<SpoolEntry | undefined> {
    if (this.#index.has(id)) {
      const meta = await this.readMeta(id);
      if (meta) return liveEntry(id, this.#index.stateOf(id, Date.now()), meta);
    }
    const done = await this.#done.get(id);
    return done ? doneEntry(id, done) : undefined;
  }

  /** Entries in receive order (done records newest first), optionally filtered by state. */
  async list(filter: { states?: SpoolState[]; limit?: number } = {}): Promise<SpoolEntry[]> {
    const want = (s: SpoolState) => !filter.states || filter.states.includes(s);
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const out: SpoolEntry[] = [];
    const now = Date.now();
    for (const id of this.#index.ids()) {
      if (out.length >= limit) return out;
      if (!want(this.#index.stateOf(id, now))) continue;
      const meta = await this.readMeta(id);
      if (meta) out.push(liveEntry(id, this.#index.stateOf(id, now), meta));
    }
    if (want('done')) {
      for (const id of await this.#done.ids()) {
        if (out.length >= limit) break;
        const rec = await this.#done.get(id);
        if (rec) out.push(doneEntry(id, rec));
      }
    }
    return out;
  }

  /**
   * Where the raw message of a live entry is kept on disk. A small message still in its first attempt may
   * not be written there yet (it is in the journal and in memory): use openMessage/readHead to read it.
   */
  messagePath(id: string): string {
    return this.#files.emlPath(id);
  }

  /** The raw message of a live entry, from memory or disk; undefined for done records (no body kept). */
  openMessage(id: string): Readable | undefined {
    const pending = this.#index.pendingOf(id);
    if (pending) return pending.body.stream();
    return this.#index.has(id) ? createReadStream(this.messagePath(id)) : undefined;
  }

  /** The first `maxBytes` of a live entry's message (its header block, for a status page). */
  async readHead(id: string, maxBytes = 16 * 1024): Promise<Buffer | undefined> {
    const pending = this.#index.pendingOf(id);
    if (pending) return pending.body.head(maxBytes);
    return this.#index.has(id) ? this.#files.readHead(id, maxBytes) : undefined;
  }

  stats(now = Date.now()): SpoolStats {
    const { depth, oldestWaitingMs } = this.#index.census(now);
    const stats: SpoolStats = {
      depth: { ...depth, done: this.#done.count },
      bytes: this.#capacity.usedBytes,
      quotaBytes: this.#capacity.maxBytes,
      memoryBytes: this.#memory.usedBytes,
      oldestWaitingAgeMs: 0,
    };
    if (oldestWaitingMs !== undefined) {
      stats.oldestWaitingAt = new Date(oldestWaitingMs).toISOString();
      stats.oldestWaitingAgeMs = Math.max(0, now - oldestWaitingMs);
    }
    return stats;
  }

  // ── admin ─────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Makes an entry due now; a failed one is revived and its maximum age counts from now. A failed entry the
   * FUNCTION failed for good is resubmitted: its submission id moves on (submission-id.ts), persisted here,
   * before any attempt — the function would otherwise replay its recorded failure. One the edge failed
   * (MESSAGE_EXPIRED after answers that were not definite) keeps its id: the function may have taken it.
   * A resubmission of a message whose outcome is unknown (core/custody.ts outcomeUnknown: Graph may have
   * sent it) throws RESUBMIT_MAY_DUPLICATE unless `force`. An entry queued in the cloud has its state read
   * now (it stays `cloud`). Logging is the caller's (queue-admin.ts), so each admin action is logged once.
   */
  async retry(id: string, opts: { force?: boolean } = {}): Promise<SpoolEntry | undefined> {
    this.#assertNotInflight(id);
    const meta = this.#index.has(id) ? await this.readMeta(id) : undefined;
    if (!meta) return undefined;
    if (mayDuplicate(meta) && !opts.force)
      throw bridgeError('RESUBMIT_MAY_DUPLICATE', {
        detail: `${id} failed with ${meta.lastError?.code ?? '?'}`,
      });
    const now = new Date().toISOString();
    const next: SpoolMeta = {
      ...meta,
      state: meta.state === 'cloud' ? 'cloud' : 'queued',
      nextAttemptAt: now,
    };
    if (meta.state === 'failed') {
      delete next.failedAt;
      delete next.failedBy;
      delete next.cloud;
      next.retriedAt = now;
      if (meta.failedBy === 'function') next.resubmissions = (meta.resubmissions ?? 0) + 1;
    }
    await this.saveMeta(id, next);
    this.emit('due');
    return liveEntry(id, this.#index.stateOf(id, Date.now()), next);
  }

  /**
   * Retries every failed entry (as `retry`); the entries retried. Without `force`, entries whose outcome is
   * unknown are left as they are (listed in `skipped`): each needs its own confirmed retry.
   */
  async retryAllFailed(opts: { force?: boolean; skipped?: string[] } = {}): Promise<SpoolEntry[]> {
    const out: SpoolEntry[] = [];
    for (const id of this.#index.failedIds()) {
      const meta = await this.readMeta(id);
      if (meta && mayDuplicate(meta) && !opts.force) {
        opts.skipped?.push(id);
        continue;
      }
      const entry = await this.retry(id, { force: true });
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Removes a live entry (message and metadata) or a done record; false when there is no such id. */
  async delete(id: string): Promise<boolean> {
    this.#assertNotInflight(id);
    if (!this.#index.has(id)) return this.#done.remove(id);
    if (!this.#index.pendingOf(id)) await this.#files.remove(id);
    this.#index.drop(id);
    await this.#journal?.done(id);
    return true;
  }

  // ── forwarder ─────────────────────────────────────────────────────────────────────────────────────

  /** Up to `limit` ids whose next attempt is due and that are not in flight, earliest first. */
  takeDue(now: number, limit: number): string[] {
    return this.#index.takeDue(now, limit);
  }

  /** When the next entry becomes due (undefined: nothing waits). */
  nextDueAtMs(): number | undefined {
    return this.#index.nextDueAtMs();
  }

  /** Marks an entry in flight (false if it is already, or gone); admin retry/delete refuse it meanwhile. */
  claim(id: string): boolean {
    return this.#index.claim(id);
  }

  release(id: string): void {
    this.#index.release(id);
  }

  /** Reads and checks an entry's metadata; a corrupt entry is quarantined and undefined returned. */
  async readMeta(id: string): Promise<SpoolMeta | undefined> {
    if (!this.#index.has(id)) return undefined;
    const pending = this.#index.pendingOf(id);
    if (pending) return pending.meta;
    const result = await checkEntry(this.layout, id);
    if (typeof result !== 'string') return result;
    if (!this.#index.has(id)) return undefined; // deleted meanwhile
    await quarantineFiles(
      this.layout,
      this.layout.messages,
      [emlName(id), metaName(id)],
      result,
      this.#logger,
    );
    this.#index.drop(id);
    return undefined;
  }

  /**
   * Durably replaces an entry's metadata (tmp file, fsync, rename, directory fsync). An entry that was in
   * the journal only gets its message file written first: from now on it stands on its own files.
   */
  async saveMeta(id: string, meta: SpoolMeta): Promise<void> {
    const pending = this.#index.pendingOf(id);
    await this.#files.writeEntry(id, pending?.body, JSON.stringify(meta));
    await this.#files.syncDirectory();
    this.#index.put(id, meta);
    if (pending) await this.#journal?.checkpointed([id]);
  }

  /** Finishes an entry: a done record with the function's answer, then the message is removed. */
  async complete(id: string, meta: SpoolMeta, outcome: DoneOutcome, result: WireResult): Promise<void> {
    const record: DoneRecord = {
      version: SPOOL_META_VERSION,
      envelope: meta.envelope,
      mimeBytes: meta.mimeBytes,
      attempts: meta.attempts,
      outcome,
      completedAt: new Date().toISOString(),
      ...(meta.resubmissions ? { submissionId: submissionId(id, meta.resubmissions) } : {}),
      result: { ...result },
    };
    await this.#done.add(id, record);
    if (!this.#index.pendingOf(id)) await this.#files.remove(id); // journal-only entries have no files
    this.#index.drop(id);
    await this.#journal?.done(id);
  }

  /**
   * Removes failed entries whose retention (BRIDGE_RETENTION_MS after failedAt) has passed; returns their ids.
   * Runs from the checkpoint timer about once a minute. Nothing else deletes a body the device got a 2xx for.
   */
  async sweepRetention(now = Date.now()): Promise<string[]> {
    const retentionMs = this.#opts.retentionMs;
    if (retentionMs === undefined) return [];
    const removed: string[] = [];
    for (const id of this.#index.failedIds()) {
      const meta = await this.readMeta(id);
      if (!meta?.failedAt || Date.parse(meta.failedAt) + retentionMs > now) continue;
      if (this.#index.isInflight(id)) continue;
      await this.delete(id);
      removed.push(id);
      this.#logger.warn(
        {
          event: 'SPOOL_RETENTION_EXPIRED',
          mid: id,
          failedAt: meta.failedAt,
          code: meta.lastError?.code,
          retentionMs,
        },
        'failed message removed after its retention',
      );
    }
    return removed;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────────

  async #checkpoint(): Promise<void> {
    if (!this.#journal || this.#checkpointing) return;
    this.#checkpointing = true;
    try {
      await checkpoint(this.#journal, this.#index, this.#files, Date.now());
      if (Date.now() - this.#lastRetentionSweepMs >= RETENTION_SWEEP_INTERVAL_MS) {
        this.#lastRetentionSweepMs = Date.now();
        await this.sweepRetention();
      }
    } catch (e) {
      this.#logger.error(
        { event: 'SPOOL_WRITE_FAILED', detail: 'checkpoint', err: e },
        'spool checkpoint failed; will retry',
      );
    } finally {
      this.#checkpointing = false;
    }
  }

  #assertNotInflight(id: string): void {
    if (this.#index.isInflight(id))
      throw bridgeError('MESSAGE_IN_PROGRESS', {
        detail: 'a POST to the function is running; try again in a moment',
      });
  }
}

const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
const RETENTION_SWEEP_INTERVAL_MS = 60_000;

/** A failed entry whose resubmission could deliver the message twice (Graph may have sent it). */
function mayDuplicate(meta: SpoolMeta): boolean {
  return meta.state === 'failed' && meta.failedBy === 'function' && outcomeUnknown(meta.lastError?.code);
}
/** How often messages still waiting are checked for a checkpoint (see CommitJournal). */
const CHECKPOINT_INTERVAL_MS = 1000;
