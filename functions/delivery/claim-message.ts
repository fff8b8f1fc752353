import { bridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { FunctionServices } from '../services';
import { judgeExistingRecord, unknownSince } from '../state/attempt-decision';
import { recordError, type MessageRecord } from '../state/message-record';
import { recordAnswer, refusal, statusForState, type IntakeAnswer } from './intake-answer';

/**
 * The idempotency step of POST /api/v1/messages: record the id, or decide what a repeated id gets
 * (state/attempt-decision.ts). Either this attempt owns the record afterwards, or the request is answered
 * here and nothing is sent.
 */
export type ClaimOutcome =
  /**
   * `lookFirst`: an earlier attempt's Graph answer was lost (or it died in the Graph phase). This request
   * must not send: it stores the body it carries and queues the message for the Sent Items look-up, and
   * the device gets 202 (the cloud keeps custody and finds out).
   */
  { kind: 'owned'; record: MessageRecord; lookFirst?: boolean } | { kind: 'answered'; answer: IntakeAnswer };

export async function claimMessage(
  services: FunctionServices,
  log: Logger,
  req: { siteId: string; messageId: string },
  attemptId: string,
): Promise<ClaimOutcome> {
  const { store } = services;
  const now = services.now();
  const claim = await store.claim(req.siteId, req.messageId, attemptId, now);
  if (claim.kind === 'new') {
    log.debug({ event: 'MESSAGE_RECEIVED' });
    return { kind: 'owned', record: claim.record };
  }
  const existing = claim.record;
  const busy = (retryAfterMs: number): ClaimOutcome => ({
    kind: 'answered',
    answer: refusal(bridgeError('MESSAGE_IN_PROGRESS', { retryAfterMs })),
  });
  const decision = judgeExistingRecord(existing, now, services.tuning.attemptStaleMs);
  switch (decision.kind) {
    case 'replay': {
      const error = recordError(existing);
      log.info({ event: 'MESSAGE_REPLAYED', state: existing.state, code: error?.code });
      return {
        kind: 'answered',
        answer: recordAnswer(statusForState(existing.state, error), existing, true),
      };
    }
    case 'in-progress':
      log.info({ event: 'REQUEST_REJECTED', code: 'MESSAGE_IN_PROGRESS' });
      return busy(decision.retryAfterMs);
    case 'outcome-unknown': {
      const changes = {
        attemptId,
        phase: 'unknown',
        unknownSince: unknownSince(existing, services.tuning.maxAttemptMs),
      } as const;
      const taken = await store.tryUpdate(existing, changes, now);
      if (!taken) return busy(1000);
      log.warn({
        event: 'MESSAGE_OUTCOME_UNKNOWN',
        detail:
          'an earlier attempt stopped while its Graph request may have been in flight; queued for a look in Sent Items',
      });
      return { kind: 'owned', record: taken, lookFirst: true };
    }
    case 'take-over': {
      const changes = { attemptId, state: 'received', phase: 'preparing', error: null } as const;
      const taken = await store.tryUpdate(existing, changes, now);
      if (!taken) return busy(1000);
      log.info({ event: 'MESSAGE_RECEIVED', detail: 'took over from an attempt that stopped before Graph' });
      return { kind: 'owned', record: taken };
    }
  }
}
