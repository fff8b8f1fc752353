import type { MessageRecord } from './message-record';

/**
 * What to do with a message id that already has a record. Pure, so every case is testable without storage.
 *
 * The rule that matters: an attempt that may have reached Graph (phase 'graph') and then died leaves an
 * unknown outcome. Sending again could deliver twice, so that record ends failed GRAPH_OUTCOME_UNKNOWN
 * (docs/design/invariants.md §2). An attempt that died before Graph may simply be taken over.
 */
export type ExistingDecision =
  /** A final (or queued) outcome is recorded: answer it, never send again. */
  | { kind: 'replay' }
  /** Another attempt is alive: ask the caller to come back later. */
  | { kind: 'in-progress'; retryAfterMs: number }
  /** The previous attempt died or gave up before Graph: this attempt may proceed. */
  | { kind: 'take-over' }
  /** The previous attempt died while a Graph request may have been in flight. */
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
  const ageMs = now.getTime() - Date.parse(record.updatedAt);
  const stale = !(ageMs < staleAfterMs); // an unreadable timestamp counts as stale
  if (!stale) {
    return {
      kind: 'in-progress',
      retryAfterMs: Math.min(MAX_IN_PROGRESS_RETRY_MS, Math.max(1000, staleAfterMs - ageMs)),
    };
  }
  return record.phase === 'graph' ? { kind: 'outcome-unknown' } : { kind: 'take-over' };
}
