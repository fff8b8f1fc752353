import { z } from 'zod';

import { type Envelope, envelopeSchema } from '../../core/envelope';
import type { SerializedBridgeError } from '../../core/errors';
import type { WireResult } from '../../core/wire';

/**
 * What the spool stores beside each message (`<id>.json` next to `<id>.eml`), and the public view of an
 * entry that the CLI and the status page get.
 *
 * States:
 *   queued    waiting, due now (nextAttemptAt has passed)
 *   deferred  waiting for nextAttemptAt after a failed attempt
 *   inflight  a POST to the function is running (known to the running process only)
 *   cloud     the function answered 202 (queued in the cloud): the edge keeps the body and asks the cloud
 *             for the message's state (signed GET, with backoff) until it is sent (→ done) or failed (→
 *             failed by the function, resubmittable) — docs/design/custody-edge.md
 *   failed    a definite permanent answer or MESSAGE_EXPIRED; kept with its message until an admin
 *             retries or deletes it, or the retention (BRIDGE_RETENTION_MS) after failedAt has passed
 *   done      finished: the function sent it, or rejected it while the client waited (the client got the
 *             5xx); only a record without the message is kept, for the status page
 */
export type SpoolState = 'queued' | 'deferred' | 'inflight' | 'cloud' | 'failed' | 'done';
export type DoneOutcome = 'sent' | 'queued' | 'rejected';

const isoTime = z.string().datetime({ offset: true });

export const serializedErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  smtp: z.object({ reply: z.number(), enhanced: z.string() }),
  retryable: z.boolean(),
  hint: z.string(),
  detail: z.string().optional(),
  graph: z
    .object({ status: z.number(), code: z.string().optional(), requestId: z.string().optional() })
    .optional(),
  retryAfterMs: z.number().optional(),
});

export const SPOOL_META_VERSION = 1;

export const spoolMetaSchema = z.object({
  version: z.literal(SPOOL_META_VERSION),
  envelope: envelopeSchema,
  mimeBytes: z.number().int().nonnegative(),
  /** Persisted part of the state; queued vs deferred is also a matter of the clock. */
  state: z.enum(['queued', 'deferred', 'cloud', 'failed']),
  /** Attempts begun; incremented and persisted BEFORE each POST (mox), so a crash mid-POST cannot loop hot. */
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: isoTime,
  lastAttemptAt: isoTime.optional(),
  lastError: serializedErrorSchema.optional(),
  failedAt: isoTime.optional(),
  /** Set by an admin retry: the maximum queue age counts from here instead of receivedAt. */
  retriedAt: isoTime.optional(),
  /**
   * Admin resubmissions (submission-id.ts): how many times an admin retried this entry after the FUNCTION had
   * answered it with a definite failure. Posts go out under `<spoolId>.r<n>` so the function, which replays
   * the recorded outcome of an id it has seen, takes the message afresh. Bumped and persisted by the admin
   * retry before any attempt; automatic retries never touch it (that would break exactly-once).
   */
  resubmissions: z.number().int().positive().optional(),
  /** Who ended the entry as failed: the function's definite answer, or the edge (MESSAGE_EXPIRED). */
  failedBy: z.enum(['function', 'edge']).optional(),
  /** While `cloud` (and kept after, for the record): what the edge knows of the cloud's custody. */
  cloud: z
    .object({
      /** When the function answered 202. */
      queuedAt: isoTime,
      /** State reads done so far (their backoff). */
      checks: z.number().int().nonnegative(),
      lastCheckedAt: isoTime.optional(),
      /** When the cloud says it tries next (WireResult.nextAttemptAt). */
      nextAttemptAt: isoTime.optional(),
      /** Why the last state read got no usable answer (the cloud's own last error is in lastError). */
      checkError: serializedErrorSchema.optional(),
    })
    .optional(),
});
export type SpoolMeta = z.infer<typeof spoolMetaSchema>;

export const doneRecordSchema = z.object({
  version: z.literal(SPOOL_META_VERSION),
  envelope: envelopeSchema,
  mimeBytes: z.number().int().nonnegative(),
  attempts: z.number().int().nonnegative(),
  outcome: z.enum(['sent', 'queued', 'rejected']),
  completedAt: isoTime,
  /** The idempotency key of the submission that finished (submission-id.ts); absent: the spool id. */
  submissionId: z.string().optional(),
  /** The function's answer, as received (state, sender, graph request id, error). */
  result: z.looseObject({ id: z.string(), state: z.string() }),
});
export type DoneRecord = z.infer<typeof doneRecordSchema>;

/** One entry as the spool API returns it. */
export interface SpoolEntry {
  id: string;
  /** The id the function knows this message by now: the spool id, or `<id>.r<n>` after n admin resubmissions. */
  submissionId: string;
  state: SpoolState;
  envelope: Envelope;
  mimeBytes: number;
  attempts: number;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastError?: SerializedBridgeError;
  failedAt?: string;
  completedAt?: string;
  outcome?: DoneOutcome;
  result?: WireResult;
  /** Who failed it: the function (a resubmission gets a new id) or the edge (MESSAGE_EXPIRED). */
  failedBy?: 'function' | 'edge';
  cloud?: SpoolMeta['cloud'];
}

export interface SpoolStats {
  /** Entries per state (done = records kept for the status page). */
  depth: Record<SpoolState, number>;
  /** Bytes of messages held (queued, deferred, inflight, failed) plus messages being received. */
  bytes: number;
  quotaBytes: number;
  /** Bytes of message bodies held in memory (received small messages not yet done or written out). */
  memoryBytes: number;
  /** receivedAt of the oldest message still waiting, in flight or queued in the cloud (not failed). */
  oldestWaitingAt?: string;
  oldestWaitingAgeMs: number;
}
