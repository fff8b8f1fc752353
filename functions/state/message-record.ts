import {
  deserializeBridgeError,
  serializeBridgeError,
  type BridgeError,
  type SerializedBridgeError,
} from '../../core/errors';
import type { MessageState, WireResult } from '../../core/wire';

/**
 * The state record of one message id (one row per site and id; the row is also the idempotency key).
 *
 * `state` is what the edge sees: received → sent | queued | failed. `phase` says how far the current attempt
 * got, so that a record left behind by a dead attempt can be judged safely:
 *   preparing – reading, checking, planning or storing the message; Graph not involved (yet or again)
 *   waiting   – stored in Blob Storage, waiting for the queue-triggered sender
 *   graph     – a Graph request may be in flight: the message may have been sent
 *   unknown   – Graph's answer to a delivering call was lost: the next step is to look in the sender's Sent
 *               Items (delivery/reconcile-message.ts), never to send blindly (docs/design/custody.md)
 *   released  – the attempt gave up before Graph (bad body, storage error); the next attempt may proceed
 *   done      – a final state was recorded
 * Never holds message content; the only address is the sending mailbox.
 */
export type AttemptPhase = 'preparing' | 'waiting' | 'graph' | 'unknown' | 'released' | 'done';

export interface MessageRecord {
  siteId: string;
  messageId: string;
  state: MessageState;
  phase: AttemptPhase;
  /** Random id of the attempt that wrote the record last. */
  attemptId: string;
  /** Graph attempts that ended in a retryable error. */
  attempts: number;
  createdAt: string;
  updatedAt: string;
  sender?: string;
  senderRewritten?: boolean;
  sizeBytes?: number;
  recipientCount?: number;
  graphRequestId?: string;
  /** Graph's id of the sent message, when known (draft path, or found in Sent Items). */
  graphMessageId?: string;
  /** The outcome was found in Sent Items after Graph's answer was lost. */
  reconciled?: boolean;
  /** Since when the outcome is unknown (ISO 8601): the Sent Items lag window counts from here. */
  unknownSince?: string;
  /** While queued: when the next attempt (or look-up) is due (ISO 8601). */
  nextAttemptAt?: string;
  /** Stable error code of the failure (or of the last retryable error while queued). */
  errorCode?: string;
  /** Human-readable reason (the BridgeError message, with detail). */
  reason?: string;
  error?: SerializedBridgeError;
  /** ETag of the row as read; updates are conditional on it. */
  etag?: string;
}

/** The changeable part of a record. */
export type RecordChanges = Partial<
  Omit<MessageRecord, 'siteId' | 'messageId' | 'createdAt' | 'etag' | 'error'>
> & {
  error?: BridgeError | null;
};

export function applyChanges(record: MessageRecord, changes: RecordChanges, now: Date): MessageRecord {
  const { error, ...rest } = changes;
  const next: MessageRecord = { ...record, ...rest, updatedAt: now.toISOString() };
  if (error === null) {
    delete next.error;
    delete next.errorCode;
    delete next.reason;
  } else if (error) {
    next.error = serializeBridgeError(error);
    next.errorCode = error.code;
    next.reason = error.message;
    if (error.graph?.requestId && !next.graphRequestId) next.graphRequestId = error.graph.requestId;
  }
  return next;
}

/**
 * What POST and GET answer for a record. `error` is the reason of a final failure only; while queued the
 * cloud's last error goes in `lastError` (with `nextAttemptAt`), because a queued message has not failed.
 */
export function toWireResult(record: MessageRecord, replayed: boolean): WireResult {
  const out: WireResult = { id: record.messageId, state: record.state, updatedAt: record.updatedAt };
  if (record.sender) out.sender = record.sender;
  if (record.graphRequestId) out.graphRequestId = record.graphRequestId;
  if (record.state === 'queued') {
    if (record.error) out.lastError = record.error;
    if (record.nextAttemptAt) out.nextAttemptAt = record.nextAttemptAt;
  } else if (record.state !== 'sent' && record.error) {
    out.error = record.error;
  }
  if (record.state === 'sent') {
    if (record.reconciled) out.reconciled = true;
    if (record.graphMessageId) out.graphMessageId = record.graphMessageId;
  }
  if (replayed) out.replayed = true;
  return out;
}

/** The BridgeError a failed record carries (for the HTTP status of a replayed answer). */
export function recordError(record: MessageRecord): BridgeError | undefined {
  return record.error ? deserializeBridgeError(record.error) : undefined;
}
