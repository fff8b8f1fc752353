import type { HttpResponseInit } from '@azure/functions';

import { serializeBridgeError, type BridgeError } from '../../core/errors';
import type { MessageState, WireResult } from '../../core/wire';
import type { IntakeAnswer } from '../delivery/intake-answer';

/**
 * Every answer of the message routes is a WireResult (core/wire.ts): 200 sent, 202 queued, 422 rejected,
 * 401 auth, 413 too large, 409/429/503 with Retry-After.
 *
 * A refusal that recorded nothing still carries a `state`: 'failed' when the error is permanent (the edge
 * should not try again) and 'received' when it is retryable (the edge keeps the message and tries later);
 * `error.retryable` says the same thing and is what the edge must go by.
 */
const RETRY_STATUSES = new Set([409, 429, 503]);
/** Retry-After when the error itself names no delay. */
const DEFAULT_RETRY_AFTER_MS = 30_000;

export function wireResponse(status: number, result: WireResult, retryAfterMs?: number): HttpResponseInit {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (RETRY_STATUSES.has(status))
    headers['retry-after'] = String(Math.max(1, Math.ceil((retryAfterMs ?? DEFAULT_RETRY_AFTER_MS) / 1000)));
  return { status, jsonBody: result, headers };
}

export function errorResponse(err: BridgeError, messageId: string, state?: MessageState): HttpResponseInit {
  const result: WireResult = {
    id: messageId,
    state: state ?? (err.retryable ? 'received' : 'failed'),
    error: serializeBridgeError(err),
  };
  return wireResponse(err.httpStatus, result, err.retryAfterMs);
}

/** The delivery path's answer to a POST as the HTTP response. */
export function intakeResponse(answer: IntakeAnswer, messageId: string): HttpResponseInit {
  return answer.kind === 'result'
    ? wireResponse(answer.status, answer.result)
    : errorResponse(answer.error, messageId);
}
