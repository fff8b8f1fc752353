import type { MessageRecord } from './message-record';

/**
 * What to do with a message id that already has a record. Pure, so every case is testable without storage.
 *
 * The rule that matters: an attempt that may have reached Graph (phase 'graph') and then died, or whose
 * answer from Graph was lost (phase 'unknown'), leaves an unknown outcome. Sending again blindly could
 * deliver twice and giving up could lose the message, so such a record is resolved by looking in the
 * sender's Sent Items (delivery/reconcile-message.ts, docs/design/custody.md). An attempt that died before Graph
 * may simply be taken over.
 */
export type ExistingDecision =
  /** A final (or queued) outcome is recorded: answer it, never send again. */
  | { kind: 'replay' }
  /** Another attempt is alive: ask the caller to come back later. */
  | { kind: 'in-progress'; retryAfterMs: number }
  /** The previous attempt died or gave up before Graph: this attempt may proceed. */
  | { kind: 'take-over' }
  /** The outcome of an earlier Graph request is unknown: look before sending again. */
  | { kind: 'outcome-unknown' };

/** Longest Retry-After suggested while another attempt is alive. */
const MAX_IN_PROGRESS_RETRY_MS = 30_000;

export function judgeExistingRecord(
  record: MessageRecord,
  now: Date,
  staleAfterMs: number,
): ExistingDecision {
  if (record.state === 'sent' || record.state === 'failed' || record.state === 'queued')
    return { kind: 'replay' };
  return judgeAttempt(record, now, staleAfterMs);
}

/**
 * For the queue-triggered sender, whose records are 'queued' by design: only the attempt phase counts.
 * Final states are handled by the caller.
 */
export function judgeAttempt(
  record: MessageRecord,
  now: Date,
  staleAfterMs: number,
): Exclude<ExistingDecision, { kind: 'replay' }> {
  if (record.phase === 'released' || record.phase === 'waiting') return { kind: 'take-over' };
  // Queued and waiting for its look-up: no attempt holds it (a look-up in progress only reads, and the
  // send that may follow is guarded by the record's ETag).
  if (record.phase === 'unknown' && record.state === 'queued') return { kind: 'outcome-unknown' };
  const ageMs = now.getTime() - Date.parse(record.updatedAt);
  const stale = !(ageMs < staleAfterMs); // an unreadable timestamp counts as stale
  if (!stale) {
    return {
      kind: 'in-progress',
      retryAfterMs: Math.min(MAX_IN_PROGRESS_RETRY_MS, Math.max(1000, staleAfterMs - ageMs)),
    };
  }
  return record.phase === 'graph' || record.phase === 'unknown'
    ? { kind: 'outcome-unknown' }
    : { kind: 'take-over' };
}

/**
 * From when the Sent Items window of an unknown outcome counts: the moment its answer was lost; or — for an
 * attempt found stale in the Graph phase, which may be slow rather than dead (a large upload) — the moment
 * it can no longer be running: its last write plus the longest an attempt lives (`maxAttemptMs`, the host's
 * functionTimeout). Sending again before then could race the old attempt's own send.
 */
export function unknownSince(record: MessageRecord, maxAttemptMs: number): string {
  if (record.unknownSince) return record.unknownSince;
  const last = Date.parse(record.updatedAt);
  return new Date((Number.isNaN(last) ? 0 : last) + maxAttemptMs).toISOString();
}
