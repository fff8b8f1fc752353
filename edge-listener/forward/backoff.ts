/**
 * Retry timing, pure (zone-mta's deferTimes, mox's jittered backoff): a table of waits after the 1st, 2nd, …
 * failed attempt, the last one repeating, spread by ±jitter so a backlog does not retry in lockstep, and
 * never shorter than what the function asked for with Retry-After.
 */
export interface BackoffPolicy {
  scheduleMs: readonly number[];
  /** 0.2 = ±20%. */
  jitter: number;
  random?: () => number;
}

export function retryDelayMs(policy: BackoffPolicy, failedAttempts: number, retryAfterMs?: number): number {
  const table = policy.scheduleMs;
  const base = table[Math.min(Math.max(failedAttempts, 1), table.length) - 1] ?? 60_000;
  const r = (policy.random ?? Math.random)();
  const jittered = base * (1 + policy.jitter * (2 * r - 1));
  return Math.round(Math.max(jittered, retryAfterMs ?? 0, 0));
}
