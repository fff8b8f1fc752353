import type { BridgeError } from '../../core/errors';
import type { MessageState, WireResult } from '../../core/wire';
import { toWireResult, type MessageRecord } from '../state/message-record';

/**
 * What the delivery path answers the edge's POST, before http/ turns it into a response (http/responses.ts):
 * a WireResult with its HTTP status, or a refusal that recorded nothing (its error carries the status and
 * says whether the edge should try again).
 */
export type IntakeAnswer =
  { kind: 'result'; status: number; result: WireResult } | { kind: 'refused'; error: BridgeError };

/** The record as the edge sees it (core/wire.ts WireResult); `replayed` when a repeated id is answered from it. */
export function recordAnswer(status: number, record: MessageRecord, replayed = false): IntakeAnswer {
  return { kind: 'result', status, result: toWireResult(record, replayed) };
}

export function refusal(error: BridgeError): IntakeAnswer {
  return { kind: 'refused', error };
}

/** HTTP status for a recorded outcome: 200 sent, 202 queued, the error's status (else 422) failed, 409 otherwise. */
export function statusForState(state: MessageState, error?: BridgeError): number {
  switch (state) {
    case 'sent':
      return 200;
    case 'queued':
      return 202;
    case 'failed':
      return error?.httpStatus ?? 422;
    default:
      return 409;
  }
}
