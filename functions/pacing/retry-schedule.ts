import type { BridgeError } from '../../core/errors';

/**
 * When a queued message is tried next, or that it has reached the horizon (docs/design/custody.md).
 * Pure: the clock comes in as numbers.
 *
 * Transient is transient for days: there is no attempt limit, only the horizon (BRIDGE_MAX_QUEUE_AGE_MS,
 * counted from when the edge received the message). Without a Retry-After the wait grows along the delay
 * table and never exceeds `maxIntervalMs`, so a cause that clears (an RBAC scope propagating, consent
 * restored, an outage over) is noticed within it. A Retry-After is honoured as given. The last wait is cut
 * so that one attempt happens at the horizon itself.
 */
export interface RetryScheduleInput {
  /** Attempts that failed so far, including the one just made (1 after the first failure). */
  attempts: number;
  error: Pick<BridgeError, 'retryAfterMs'>;
  delaysMs: readonly number[];
  maxIntervalMs: number;
  /** When the edge received the message (epoch ms). */
  startMs: number;
  horizonMs: number;
  nowMs: number;
}

export type RetryDecision = { kind: 'retry'; delayMs: number } | { kind: 'expired' };

/** Shortest wait, so a Retry-After of 0 or a horizon a moment away does not spin. */
const MIN_DELAY_MS = 1000;

export function nextRetry(i: RetryScheduleInput): RetryDecision {
  const leftMs = i.startMs + i.horizonMs - i.nowMs;
  if (!(leftMs > 0)) return { kind: 'expired' };
  const tableMs = i.delaysMs[Math.min(Math.max(i.attempts, 1) - 1, i.delaysMs.length - 1)] ?? i.maxIntervalMs;
  const delayMs = i.error.retryAfterMs ?? Math.min(tableMs, i.maxIntervalMs);
  return {
    kind: 'retry',
    delayMs: Math.max(Math.min(MIN_DELAY_MS, i.maxIntervalMs), Math.min(delayMs, leftMs)),
  };
}
