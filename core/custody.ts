/**
 * The custody figures both sides must agree on (docs/design/custody.md): how long a message may wait for
 * delivery before it ends failed (the horizon), how long a failed or delivered message's body is kept after
 * that, and the longest pause between two attempts. One setting each, the same name on the edge and in the
 * function, so an admin changes one figure, not two that drift apart.
 */
const DAY_MS = 24 * 60 * 60 * 1000;

/** `BRIDGE_MAX_QUEUE_AGE_MS`: age at which an undelivered message stops being retried (Postfix: 5 days). */
export const DEFAULT_MAX_QUEUE_AGE_MS = 5 * DAY_MS;

/** `BRIDGE_RETENTION_MS`: how long a body is kept after its message reached a final state. */
export const DEFAULT_RETENTION_MS = 5 * DAY_MS;

/** Retries back off up to this interval and no further, so a cause that clears is noticed within it. */
export const MAX_RETRY_INTERVAL_MS = 30 * 60 * 1000;

/**
 * Failures after which the message may nevertheless have been sent (Graph's answer was lost). Such a
 * message is never a rejection for the device (it got or gets its 250), and sending it again — an admin
 * resubmission — asks for explicit confirmation because it may duplicate (docs/design/custody-edge.md).
 */
export const OUTCOME_UNKNOWN_CODES: ReadonlySet<string> = new Set(['GRAPH_OUTCOME_UNKNOWN']);

export const outcomeUnknown = (code: string | undefined): boolean =>
  code !== undefined && OUTCOME_UNKNOWN_CODES.has(code);
