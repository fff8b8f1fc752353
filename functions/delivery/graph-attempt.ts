import type { Envelope } from '../../core/envelope';
import { toBridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { siteSettings } from '../config';
import type { DeliveryChecks, DeliveryPlan, SendReport } from './delivery-plan';
import type { MimeBytes, MimeSource } from '../mime/raw-mime';
import { applyChanges, type MessageRecord, type RecordChanges } from '../state/message-record';
import type { Mailer, FunctionServices } from '../services';

/**
 * One Graph attempt for a message whose record this attempt owns, shared by the HTTP and the queue path.
 *
 * The record moves to phase 'graph' (conditional on its ETag) BEFORE the request leaves, so that if this
 * process dies mid-send, the next attempt knows the message may have gone out and will not send it again.
 * A definite answer from Graph is recorded afterwards: sent, failed (permanent) or back to waiting
 * (retryable: Graph refused before accepting, so trying again cannot duplicate). A lost answer
 * (GRAPH_OUTCOME_UNKNOWN: timeout, dropped connection, 500/502/504 on sendMail or /send) is neither: the
 * record moves to phase 'unknown' and the caller queues it for the Sent Items look-up (reconcile-message.ts).
 */
export type DeliveryOutcome =
  | { kind: 'sent'; record: MessageRecord; report: SendReport }
  /** Graph's answer was lost: the message may have been sent; look before sending again. */
  | { kind: 'unknown'; record: MessageRecord; error: BridgeError }
  | { kind: 'retryable'; record: MessageRecord; error: BridgeError }
  | { kind: 'failed'; record: MessageRecord; error: BridgeError }
  /** Another attempt changed the record first; this attempt did not send and must not touch it. */
  | { kind: 'lost-race' };

export async function deliverOnce(
  services: FunctionServices,
  log: Logger,
  record: MessageRecord,
  plan: DeliveryPlan,
  mailer: Mailer,
): Promise<DeliveryOutcome> {
  const { store } = services;
  const inFlight = await store.tryUpdate(record, { phase: 'graph' }, services.now());
  if (!inFlight) return { kind: 'lost-race' };
  let report: SendReport;
  try {
    report = await mailer.send(plan);
  } catch (err) {
    const error = toBridgeError(err);
    if (error.code === 'GRAPH_OUTCOME_UNKNOWN') {
      const unknown = await recordOutcome(services, log, inFlight, {
        phase: 'unknown',
        unknownSince: services.now().toISOString(),
        attempts: inFlight.attempts + 1,
        error,
      });
      return { kind: 'unknown', record: unknown, error };
    }
    if (error.retryable) {
      const waiting = await recordOutcome(services, log, inFlight, {
        phase: inFlight.state === 'queued' ? 'waiting' : 'preparing',
        attempts: inFlight.attempts + 1,
        error,
      });
      return { kind: 'retryable', record: waiting, error };
    }
    const failed = await recordOutcome(services, log, inFlight, { state: 'failed', phase: 'done', error });
    return { kind: 'failed', record: failed, error };
  }
  const changes: RecordChanges = {
    state: 'sent',
    phase: 'done',
    error: null,
    unknownSince: undefined,
    nextAttemptAt: undefined,
  };
  if (report.requestId) changes.graphRequestId = report.requestId;
  if (report.graphMessageId) changes.graphMessageId = report.graphMessageId;
  const sent = await recordOutcome(services, log, inFlight, changes);
  return { kind: 'sent', record: sent, report };
}

/**
 * Writes what Graph answered. The ETag should still be ours; if it is not (a slow attempt was judged dead
 * and marked GRAPH_OUTCOME_UNKNOWN meanwhile), the definite answer is still the truth, so it is written over
 * the newer row once.
 */
async function recordOutcome(
  services: FunctionServices,
  log: Logger,
  record: MessageRecord,
  changes: RecordChanges,
): Promise<MessageRecord> {
  const { store } = services;
  const written = await store.tryUpdate(record, changes, services.now());
  if (written) return written;
  const current = await store.get(record.siteId, record.messageId);
  if (current) {
    log.warn({
      event: 'MESSAGE_DEFERRED',
      id: record.messageId,
      detail: 'record changed during the Graph request; writing the Graph outcome over it',
    });
    const again = await store.tryUpdate(current, { ...changes, attemptId: record.attemptId }, services.now());
    if (again) return again;
  }
  return applyChanges(record, changes, services.now()); // not stored: storage refused twice; the caller still answers
}

/** Plans a message under its site's sender policy (siteSettings), the same way on both paths. */
export function planForSite(
  services: FunctionServices,
  site: ReturnType<typeof siteSettings>,
  mime: MimeSource,
  envelope: Envelope,
): Promise<DeliveryPlan> {
  return services.plan(mime, envelope, policyOf(site), { saveToSentItems: services.config.saveToSentItems });
}

/** planForSite's checks without the content (a message the HTTP intake will queue, not send). */
export function checkForSite(
  services: FunctionServices,
  site: ReturnType<typeof siteSettings>,
  mime: MimeBytes,
  envelope: Envelope,
): Promise<DeliveryChecks> {
  return services.check(mime, envelope, policyOf(site), { saveToSentItems: services.config.saveToSentItems });
}

function policyOf(site: ReturnType<typeof siteSettings>) {
  return site.defaultSender
    ? { allowedSenders: site.allowedSenders, defaultSender: site.defaultSender }
    : { allowedSenders: site.allowedSenders };
}
