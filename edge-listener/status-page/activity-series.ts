import type { EdgeEvents } from '../events';

/**
 * Messages accepted, sent and failed, and how long delivery took, over the last minutes: fixed-width time
 * buckets filled from the listener's events, for the status page's chart. In memory only — it is a live
 * view; the durable history is the spool and the logs.
 */
export interface ActivityBucket {
  /** Start of the bucket (ms since epoch). */
  t: number;
  accepted: number;
  /** Sent by the function, or durably queued by it. */
  sent: number;
  /** Ended failed: rejected (client saw the 5xx) or failed in the spool. */
  failed: number;
  deferred: number;
  /** Mean and maximum duration of the successful forward attempts in this bucket. */
  latencyAvgMs?: number;
  latencyMaxMs?: number;
}

export interface ActivityOptions {
  bucketMs?: number;
  buckets?: number;
  now?: () => number;
}

interface Slot {
  t: number;
  accepted: number;
  sent: number;
  failed: number;
  deferred: number;
  latencySumMs: number;
  latencyCount: number;
  latencyMaxMs: number;
}

export class ActivitySeries {
  readonly bucketMs: number;
  readonly #size: number;
  readonly #now: () => number;
  readonly #slots = new Map<number, Slot>();

  constructor(options: ActivityOptions = {}) {
    this.bucketMs = options.bucketMs ?? 10_000;
    this.#size = options.buckets ?? 90;
    this.#now = options.now ?? Date.now;
  }

  /** Subscribes to the listener's events; returns the unsubscribe function. */
  follow(events: EdgeEvents): () => void {
    const onAccepted = () => this.#slot().accepted++;
    const onOutcome = (o: { kind: string; durationMs: number }) => {
      const slot = this.#slot();
      if (o.kind === 'sent' || o.kind === 'queued') {
        slot.sent++;
        slot.latencySumMs += o.durationMs;
        slot.latencyCount++;
        slot.latencyMaxMs = Math.max(slot.latencyMaxMs, o.durationMs);
      } else if (o.kind === 'deferred') slot.deferred++;
      else slot.failed++;
    };
    events.on('accepted', onAccepted);
    events.on('outcome', onOutcome);
    return () => {
      events.off('accepted', onAccepted);
      events.off('outcome', onOutcome);
    };
  }

  /** Every bucket of the window, oldest first, empty ones included (so the chart's x axis is time). */
  buckets(): ActivityBucket[] {
    const current = this.#start(this.#now());
    const out: ActivityBucket[] = [];
    for (let i = this.#size - 1; i >= 0; i--) {
      const t = current - i * this.bucketMs;
      const s = this.#slots.get(t);
      const bucket: ActivityBucket = {
        t,
        accepted: s?.accepted ?? 0,
        sent: s?.sent ?? 0,
        failed: s?.failed ?? 0,
        deferred: s?.deferred ?? 0,
      };
      if (s && s.latencyCount > 0) {
        bucket.latencyAvgMs = Math.round(s.latencySumMs / s.latencyCount);
        bucket.latencyMaxMs = s.latencyMaxMs;
      }
      out.push(bucket);
    }
    return out;
  }

  #slot(): Slot {
    const t = this.#start(this.#now());
    let slot = this.#slots.get(t);
    if (!slot) {
      slot = {
        t,
        accepted: 0,
        sent: 0,
        failed: 0,
        deferred: 0,
        latencySumMs: 0,
        latencyCount: 0,
        latencyMaxMs: 0,
      };
      this.#slots.set(t, slot);
      const oldest = t - (this.#size - 1) * this.bucketMs;
      for (const key of this.#slots.keys()) if (key < oldest) this.#slots.delete(key);
    }
    return slot;
  }

  #start(ms: number): number {
    return Math.floor(ms / this.bucketMs) * this.bucketMs;
  }
}
