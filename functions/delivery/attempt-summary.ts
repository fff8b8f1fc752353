import type { BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { DeliveryOutcome } from './graph-attempt';
import type { MessageRecord } from '../state/message-record';

/**
 * The one line that sums up a message attempt, with the same facts on the HTTP and the queue path: the
 * sending mailbox, size, recipient count, attempts and duration (never recipients or content).
 */
export interface AttemptSummary {
  level: 'info' | 'warn' | 'error';
  event: 'MESSAGE_SENT' | 'MESSAGE_QUEUED' | 'MESSAGE_FAILED' | 'MESSAGE_REJECTED' | 'MESSAGE_DEFERRED';
  facts: Record<string, unknown>;
}

export function logAttemptSummary(
  log: Logger,
  record: MessageRecord | undefined,
  startedMs: number,
  summary: AttemptSummary,
): void {
  log[summary.level]({
    event: summary.event,
    mailbox: record?.sender,
    bytes: record?.sizeBytes,
    rcptCount: record?.recipientCount,
    attempts: record?.attempts,
    durationMs: Date.now() - startedMs,
    ...summary.facts,
  });
}

/** A failure the sender caused (userError) is a warning; any other an error. */
export function failureLevel(error: BridgeError): 'warn' | 'error' {
  return error.userError ? 'warn' : 'error';
}

/** The summary of a definite Graph answer. */
export function finalSummary(
  outcome: Extract<DeliveryOutcome, { kind: 'sent' } | { kind: 'failed' }>,
): AttemptSummary {
  if (outcome.kind === 'sent') {
    const { requestId, graphCalls, path } = outcome.report;
    return { level: 'info', event: 'MESSAGE_SENT', facts: { graphRequestId: requestId, graphCalls, path } };
  }
  const { code, graph } = outcome.error;
  return { level: failureLevel(outcome.error), event: 'MESSAGE_FAILED', facts: { code, graph } };
}
