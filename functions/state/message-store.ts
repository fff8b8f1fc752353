import type { TableClient } from '@azure/data-tables';

import type { SerializedBridgeError } from '../../core/errors';
import type { MessageState } from '../../core/wire';
import { applyChanges, type AttemptPhase, type MessageRecord, type RecordChanges } from './message-record';
import { statusOf, toStorageError } from './storage-errors';

/**
 * Message state records in Azure Table Storage. Partition = site id, row = message id, so an id is
 * idempotent per site and a site can only ever read its own records. Every update is conditional on the
 * ETag read, so two attempts can never both believe they own a message.
 */
export type ClaimResult =
  { kind: 'new'; record: MessageRecord } | { kind: 'existing'; record: MessageRecord };

/** The table row: the record's own fields, keyed by site and id, with the error as JSON text. */
type RecordEntity = Omit<MessageRecord, 'siteId' | 'messageId' | 'state' | 'phase' | 'error' | 'etag'> & {
  partitionKey: string;
  rowKey: string;
  state: string;
  phase: string;
  errorJson?: string;
};

export class MessageStore {
  readonly #table: TableClient;
  readonly #ready: () => Promise<void>;

  constructor(table: TableClient, ensureCreated: () => Promise<void>) {
    this.#table = table;
    this.#ready = ensureCreated;
  }

  /** Records a new id; when the id exists already, returns its record instead (nothing is changed). */
  async claim(siteId: string, messageId: string, attemptId: string, now: Date): Promise<ClaimResult> {
    await this.#ready();
    const at = now.toISOString();
    const record: MessageRecord = {
      siteId,
      messageId,
      state: 'received',
      phase: 'preparing',
      attemptId,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    };
    try {
      const res = await this.#table.createEntity(toEntity(record));
      return { kind: 'new', record: withEtag(record, res.etag) };
    } catch (err) {
      if (statusOf(err) !== 409) throw toStorageError(err, 'record message id');
    }
    const existing = await this.get(siteId, messageId);
    // Deleted between our create and read: extremely unlikely; treat as in use so the caller retries.
    if (!existing) return { kind: 'existing', record };
    return { kind: 'existing', record: existing };
  }

  async get(siteId: string, messageId: string): Promise<MessageRecord | undefined> {
    await this.#ready();
    try {
      const entity = await this.#table.getEntity<RecordEntity>(siteId, messageId);
      return fromEntity(entity);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw toStorageError(err, 'read message record');
    }
  }

  /** Writes the changes if the row still has the ETag the record was read with; null when it changed since. */
  async tryUpdate(
    record: MessageRecord,
    changes: RecordChanges,
    now: Date = new Date(),
  ): Promise<MessageRecord | null> {
    await this.#ready();
    const next = applyChanges(record, changes, now);
    try {
      const res = await this.#table.updateEntity(
        toEntity(next),
        'Replace',
        record.etag ? { etag: record.etag } : {},
      );
      return withEtag(next, res.etag);
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 404) return null;
      throw toStorageError(err, 'update message record');
    }
  }
}

function withEtag(record: MessageRecord, etag: string | undefined): MessageRecord {
  return etag ? { ...record, etag } : record;
}

function toEntity(r: MessageRecord): RecordEntity {
  const e: RecordEntity = {
    partitionKey: r.siteId,
    rowKey: r.messageId,
    state: r.state,
    phase: r.phase,
    attemptId: r.attemptId,
    attempts: r.attempts,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
  if (r.sender !== undefined) e.sender = r.sender;
  if (r.senderRewritten !== undefined) e.senderRewritten = r.senderRewritten;
  if (r.sizeBytes !== undefined) e.sizeBytes = r.sizeBytes;
  if (r.recipientCount !== undefined) e.recipientCount = r.recipientCount;
  if (r.graphRequestId !== undefined) e.graphRequestId = r.graphRequestId;
  if (r.graphMessageId !== undefined) e.graphMessageId = r.graphMessageId;
  if (r.reconciled !== undefined) e.reconciled = r.reconciled;
  if (r.unknownSince !== undefined) e.unknownSince = r.unknownSince;
  if (r.nextAttemptAt !== undefined) e.nextAttemptAt = r.nextAttemptAt;
  if (r.errorCode !== undefined) e.errorCode = r.errorCode;
  if (r.reason !== undefined) e.reason = r.reason;
  if (r.error !== undefined) e.errorJson = JSON.stringify(r.error);
  return e;
}

function fromEntity(e: RecordEntity & { etag?: string }): MessageRecord {
  const r: MessageRecord = {
    siteId: e.partitionKey,
    messageId: e.rowKey,
    state: e.state as MessageState,
    phase: e.phase as AttemptPhase,
    attemptId: e.attemptId,
    attempts: Number(e.attempts ?? 0),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
  if (e.sender !== undefined) r.sender = e.sender;
  if (e.senderRewritten !== undefined) r.senderRewritten = e.senderRewritten;
  if (e.sizeBytes !== undefined) r.sizeBytes = Number(e.sizeBytes);
  if (e.recipientCount !== undefined) r.recipientCount = Number(e.recipientCount);
  if (e.graphRequestId !== undefined) r.graphRequestId = e.graphRequestId;
  if (e.graphMessageId !== undefined) r.graphMessageId = e.graphMessageId;
  if (e.reconciled !== undefined) r.reconciled = Boolean(e.reconciled);
  if (e.unknownSince !== undefined) r.unknownSince = e.unknownSince;
  if (e.nextAttemptAt !== undefined) r.nextAttemptAt = e.nextAttemptAt;
  if (e.errorCode !== undefined) r.errorCode = e.errorCode;
  if (e.reason !== undefined) r.reason = e.reason;
  if (e.errorJson !== undefined) r.error = JSON.parse(e.errorJson) as SerializedBridgeError;
  if (e.etag !== undefined) r.etag = e.etag;
  return r;
}
