import type { WireResult } from '../../core/wire';
import type { DoneRecord, SpoolEntry, SpoolMeta, SpoolState } from './entry';
import { submissionId } from './submission-id';

/** A live entry as the spool API (and the lock-free SpoolReader of the CLI) shows it. */
export function liveEntry(id: string, state: SpoolState, meta: SpoolMeta): SpoolEntry {
  const e: SpoolEntry = {
    id,
    submissionId: submissionId(id, meta.resubmissions),
    state,
    envelope: meta.envelope,
    mimeBytes: meta.mimeBytes,
    attempts: meta.attempts,
  };
  if (meta.state !== 'failed') e.nextAttemptAt = meta.nextAttemptAt;
  if (meta.lastAttemptAt) e.lastAttemptAt = meta.lastAttemptAt;
  if (meta.lastError) e.lastError = meta.lastError as SpoolEntry['lastError'];
  if (meta.failedAt) e.failedAt = meta.failedAt;
  if (meta.failedBy) e.failedBy = meta.failedBy;
  if (meta.cloud) e.cloud = meta.cloud;
  return e;
}

/** A finished message as the spool API shows it. */
export function doneEntry(id: string, rec: DoneRecord): SpoolEntry {
  return {
    id,
    submissionId: rec.submissionId ?? id,
    state: 'done',
    envelope: rec.envelope,
    mimeBytes: rec.mimeBytes,
    attempts: rec.attempts,
    completedAt: rec.completedAt,
    outcome: rec.outcome,
    result: rec.result as unknown as WireResult,
  };
}
