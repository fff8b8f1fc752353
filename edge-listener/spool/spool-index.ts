import type { SpoolCapacity } from './capacity';
import { DueHeap } from './due-heap';
import type { MemoryBudget } from './memory-budget';
import type { SpoolMeta, SpoolState, SpoolStats } from './entry';
import type { HeldMessage } from './held-message';

/** What the process keeps in memory per entry: enough to schedule and count; the rest stays on disk. */
interface IndexItem {
  /** Committed through the journal only: no files in messages/ yet (see Spool). */
  pending?: { meta: SpoolMeta; body: HeldMessage };
  failed: boolean;
  /** Queued in the cloud: the schedule is that of the next state read, not of a POST. */
  cloud: boolean;
  nextAttemptAtMs: number;
  receivedAtMs: number;
  mimeBytes: number;
  version: number;
}

/**
 * The in-memory mirror of messages/: which entries exist, when each is due, which are in flight, and the
 * bytes they hold (fed into the quota). Rebuilt from disk at every start, so losing it loses nothing.
 */
export class SpoolIndex {
  readonly #items = new Map<string, IndexItem>();
  readonly #inflight = new Set<string>();
  readonly #due = new DueHeap();
  readonly #capacity: SpoolCapacity;
  readonly #memory: MemoryBudget;
  #version = 0;

  /** Pending bodies were reserved in `memory` when received; the index gives them back when they go. */
  constructor(capacity: SpoolCapacity, memory: MemoryBudget) {
    this.#capacity = capacity;
    this.#memory = memory;
  }

  has(id: string): boolean {
    return this.#items.has(id);
  }

  /** Ids in receive order (spool ids sort by time). */
  ids(): string[] {
    return [...this.#items.keys()].sort();
  }

  failedIds(): string[] {
    return this.ids().filter((id) => this.#items.get(id)!.failed && !this.#inflight.has(id));
  }

  /** The journal-only copy of an entry whose files are not written yet. */
  pendingOf(id: string): { meta: SpoolMeta; body: HeldMessage } | undefined {
    return this.#items.get(id)?.pending;
  }

  put(id: string, meta: SpoolMeta, body?: HeldMessage): void {
    const previous = this.#items.get(id);
    if (previous) this.#capacity.stored(-previous.mimeBytes);
    if (previous?.pending && previous.pending.body !== body)
      this.#memory.release(previous.pending.body.length);
    const item: IndexItem = {
      failed: meta.state === 'failed',
      cloud: meta.state === 'cloud',
      nextAttemptAtMs: Date.parse(meta.nextAttemptAt),
      receivedAtMs: Date.parse(meta.envelope.receivedAt),
      mimeBytes: meta.mimeBytes,
      version: ++this.#version,
    };
    if (body) item.pending = { meta, body };
    this.#items.set(id, item);
    this.#capacity.stored(meta.mimeBytes);
    if (!item.failed) this.#due.push(id, item.nextAttemptAtMs, item.version);
  }

  drop(id: string): void {
    const item = this.#items.get(id);
    if (!item) return;
    this.#items.delete(id);
    this.#capacity.stored(-item.mimeBytes);
    if (item.pending) this.#memory.release(item.pending.body.length);
  }

  stateOf(id: string, now: number): SpoolState {
    const item = this.#items.get(id);
    if (!item) return 'done';
    if (item.cloud) return 'cloud'; // also while its state is being read
    if (this.#inflight.has(id)) return 'inflight';
    if (item.failed) return 'failed';
    return item.nextAttemptAtMs <= now ? 'queued' : 'deferred';
  }

  isInflight(id: string): boolean {
    return this.#inflight.has(id);
  }

  claim(id: string): boolean {
    if (this.#inflight.has(id) || !this.#items.has(id)) return false;
    this.#inflight.add(id);
    return true;
  }

  release(id: string): void {
    this.#inflight.delete(id);
    const item = this.#items.get(id);
    // An attempt can end without a state change; the entry must stay schedulable.
    if (item && !item.failed) this.#due.push(id, item.nextAttemptAtMs, item.version);
  }

  /** Up to `limit` ids whose next attempt is due and that are not in flight, earliest first. */
  takeDue(now: number, limit: number): string[] {
    const out = new Set<string>();
    while (out.size < limit) {
      const top = this.#due.peek();
      if (!top || top.atMs > now) break;
      this.#due.pop();
      if (this.#current(top.id, top.version) && !this.#inflight.has(top.id)) out.add(top.id);
    }
    return [...out];
  }

  /** When the next entry becomes due (undefined: nothing waits); stale heap slots are dropped on the way. */
  nextDueAtMs(): number | undefined {
    for (let top = this.#due.peek(); top; top = this.#due.peek()) {
      if (this.#current(top.id, top.version)) return top.atMs;
      this.#due.pop();
    }
    return undefined;
  }

  /** Depth per state (done excluded) and the receive time of the oldest entry still waiting. */
  census(now: number): { depth: Omit<SpoolStats['depth'], 'done'>; oldestWaitingMs?: number } {
    const depth = { queued: 0, deferred: 0, inflight: 0, cloud: 0, failed: 0 };
    let oldest: number | undefined;
    for (const [id, item] of this.#items) {
      depth[this.stateOf(id, now) as keyof typeof depth]++;
      if (!item.failed && (oldest === undefined || item.receivedAtMs < oldest)) oldest = item.receivedAtMs;
    }
    return oldest === undefined ? { depth } : { depth, oldestWaitingMs: oldest };
  }

  #current(id: string, version: number): boolean {
    const item = this.#items.get(id);
    return !!item && item.version === version && !item.failed;
  }
}
