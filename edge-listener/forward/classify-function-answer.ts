import { z } from 'zod';

import {
  type BridgeError,
  bridgeError,
  deserializeBridgeError,
  ERROR_TABLE,
  isBridgeErrorCode,
} from '../../core/errors';
import { parseRetryAfterMs } from '../../core/retry-after';
import type { WireResult } from '../../core/wire';

/** One HTTP answer from the function, as the client read it (body capped). */
export interface FunctionAnswer {
  status: number;
  retryAfter?: string;
  body: Buffer;
}

export type ForwardOutcome =
  | { kind: 'sent'; result: WireResult; status: number }
  | { kind: 'queued'; result: WireResult; status: number }
  | { kind: 'rejected'; error: BridgeError; result: WireResult; status: number }
  | { kind: 'deferred'; error: BridgeError; retryAfterMs?: number; status?: number };

const wireResultSchema = z.looseObject({
  id: z.string(),
  state: z.enum(['received', 'sent', 'queued', 'failed']),
  error: z
    .looseObject({ code: z.string(), retryable: z.boolean(), retryAfterMs: z.number().optional() })
    .optional(),
});

/**
 * Statuses that never carry a definite answer about the message itself, whatever the body says: the host's
 * own auth and routing (a wrong key, URL or a proxy login page), throttling and timeouts. Mail is kept.
 */
const AMBIGUOUS_STATUSES = new Set([401, 403, 404, 405, 407, 408, 409, 425, 429]);

/**
 * Turns the function's answer into what the spool does with the message. Fails towards keeping mail
 * (docs/design/wire-contract.md, "Answers"): only a parsed WireResult for this id, with `state: failed` and an error that both the
 * function and our own ERROR_TABLE call non-retryable, on a status that is not ambiguous, ends it as
 * rejected. Everything else — 5xx, 401s from a misconfiguration, unreadable bodies, another id — defers.
 */
export function classifyAnswer(answer: FunctionAnswer, expectedId: string, nowMs: number): ForwardOutcome {
  const status = answer.status;
  const headerRetryMs = parseRetryAfterMs(answer.retryAfter, nowMs);
  const result = parseResult(answer.body);
  if (result && result.id !== expectedId) {
    return deferred(
      bridgeError('FUNCTION_BAD_RESPONSE', { detail: `HTTP ${status}: answer names another message id` }),
      status,
      headerRetryMs,
    );
  }
  if (result && status >= 200 && status < 300) {
    if (result.state === 'sent') return { kind: 'sent', result: result as WireResult, status };
    if (result.state === 'queued') return { kind: 'queued', result: result as WireResult, status };
  }
  const err = result?.error;
  const retryAfterMs = maxDefined(headerRetryMs, err?.retryAfterMs);
  if (result && err && isBridgeErrorCode(err.code)) {
    const definite = result.state === 'failed' && !err.retryable && !ERROR_TABLE[err.code].retryable;
    if (definite && status < 500 && !AMBIGUOUS_STATUSES.has(status)) {
      return { kind: 'rejected', error: deserializeBridgeError(err), result: result as WireResult, status };
    }
    const e = deserializeBridgeError(err);
    return deferred(
      e.retryable ? e : bridgeError('FUNCTION_BAD_RESPONSE', { detail: `HTTP ${status} with ${err.code}` }),
      status,
      retryAfterMs,
    );
  }
  if (result && status >= 200 && status < 300) {
    return deferred(
      bridgeError('MESSAGE_IN_PROGRESS', { detail: `state ${result.state}` }),
      status,
      retryAfterMs,
    );
  }
  return deferred(statusError(status), status, retryAfterMs);
}

/** A request that got no answer at all (refused, reset, DNS, TLS, timeout). */
export function classifyNoAnswer(err: unknown): ForwardOutcome {
  const code =
    (err as NodeJS.ErrnoException | undefined)?.code ?? (err as Error | undefined)?.message ?? 'error';
  return {
    kind: 'deferred',
    error: bridgeError('FUNCTION_UNREACHABLE', { detail: String(code).slice(0, 80), cause: err }),
  };
}

function statusError(status: number): BridgeError {
  if (status === 401 || status === 403)
    return bridgeError('FUNCTION_UNREACHABLE', {
      detail: `HTTP ${status} from the function host; check BRIDGE_FUNCTION_KEY`,
    });
  if (status === 404)
    return bridgeError('FUNCTION_UNREACHABLE', { detail: 'HTTP 404; check BRIDGE_FUNCTION_URL' });
  if (status === 408 || status === 429 || status >= 500)
    return bridgeError('FUNCTION_UNREACHABLE', { detail: `HTTP ${status}` });
  return bridgeError('FUNCTION_BAD_RESPONSE', { detail: `HTTP ${status} without a readable answer` });
}

function parseResult(body: Buffer): z.infer<typeof wireResultSchema> | undefined {
  try {
    const parsed = wireResultSchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function deferred(error: BridgeError, status: number, retryAfterMs: number | undefined): ForwardOutcome {
  const out: ForwardOutcome = { kind: 'deferred', error, status };
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  return out;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
