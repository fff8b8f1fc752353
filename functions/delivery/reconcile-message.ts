import { bridgeError, toBridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { DeliveryPlan } from './delivery-plan';
import type { FunctionServices, Mailer } from '../services';
import { unknownSince } from '../state/attempt-decision';
import type { MessageRecord } from '../state/message-record';

/**
 * Resolves an unknown outcome by looking, not by guessing (docs/design/custody.md "Lost answers"): once the
 * Sent Items lag has passed since the answer was lost, look for the message's internetMessageId in the
 * sender's Sent Items. Found → it was sent. Not found once the look-up window has passed → it was not, and
 * may be sent again. Read-only: the caller records what this decides.
 *
 * Where the bridge cannot look — BRIDGE_SAVE_TO_SENT_ITEMS off (no copy is saved), or no read permission on
 * the mailbox (403) — it does not guess either: the message is held as GRAPH_OUTCOME_UNKNOWN with its body
 * kept for an admin.
 */
export type ReconcileStep =
  | { kind: 'found'; graphMessageId?: string; requestId?: string }
  /** Look (again) after `delayMs`; `error` when the look-up itself failed transiently. */
  | { kind: 'look-later'; delayMs: number; error?: BridgeError }
  | { kind: 'send-again' }
  | { kind: 'hold'; error: BridgeError };

export async function reconcileStep(
  services: FunctionServices,
  log: Logger,
  record: MessageRecord,
  plan: DeliveryPlan,
  mailer: Mailer,
): Promise<ReconcileStep> {
  const { tuning } = services;
  const sinceMs = Date.parse(unknownSince(record, tuning.maxAttemptMs));
  const elapsedMs = services.now().getTime() - (Number.isNaN(sinceMs) ? 0 : sinceMs);
  if (!services.config.saveToSentItems || !plan.saveToSentItems) {
    return {
      kind: 'hold',
      error: unknownOutcome(
        'BRIDGE_SAVE_TO_SENT_ITEMS is off, so no Sent Items copy exists to look for; check with the recipients, then resubmit with --force if it did not arrive',
      ),
    };
  }
  if (elapsedMs < tuning.sentItemsLagMs)
    return { kind: 'look-later', delayMs: tuning.sentItemsLagMs - elapsedMs };
  let answer;
  try {
    answer = await mailer.findSent(plan.mailbox, plan.internetMessageId);
  } catch (err) {
    const error = toBridgeError(err);
    log.warn({ event: 'MESSAGE_RECONCILED', found: false, code: error.code, graph: error.graph });
    if (error.code === 'GRAPH_ACCESS_DENIED' || !error.retryable) {
      return {
        kind: 'hold',
        error: unknownOutcome(
          `the bridge may not read ${plan.mailbox}'s Sent Items (${error.code}${error.graph?.code ? ` ${error.graph.code}` : ''}): grant Mail.ReadBasic (tenant-wide) or "Application Mail.ReadBasic" on the Exchange RBAC scope (docs/mailbox-scoping.md), then check Sent Items for internetMessageId ${plan.internetMessageId} and resubmit with --force only if it is not there`,
          error,
        ),
      };
    }
    return { kind: 'look-later', delayMs: error.retryAfterMs ?? tuning.sentItemsLagMs, error };
  }
  log.info({ event: 'MESSAGE_RECONCILED', found: answer.found, elapsedMs, requestId: answer.requestId });
  if (answer.found) {
    const found: ReconcileStep = { kind: 'found' };
    if (answer.graphMessageId) found.graphMessageId = answer.graphMessageId;
    if (answer.requestId) found.requestId = answer.requestId;
    return found;
  }
  if (elapsedMs >= tuning.reconcileWindowMs) return { kind: 'send-again' };
  return {
    kind: 'look-later',
    delayMs: Math.min(tuning.sentItemsLagMs, tuning.reconcileWindowMs - elapsedMs),
  };
}

/** The held state of a message whose outcome the bridge could not find out. */
export function unknownOutcome(detail: string, cause?: BridgeError): BridgeError {
  return bridgeError('GRAPH_OUTCOME_UNKNOWN', {
    detail,
    ...(cause?.graph ? { graph: cause.graph } : {}),
  });
}
