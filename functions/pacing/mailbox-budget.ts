/**
 * The per-mailbox sending budget as plain data and pure rules (the storage side is mailbox-pacer.ts).
 *
 * Exchange Online allows a mailbox 4 concurrent requests per app and 30 messages a minute
 * (docs/design/platform-facts.md §A3). Concurrency is a set of leases that expire, so a crashed instance frees its slot by
 * itself. The rate is a sliding one-minute log of send start times rather than a token bucket: a bucket
 * that starts full lets twice the limit through in the first minute, the log never does.
 */
export interface MailboxBudget {
  /** Lease id → expiry (epoch ms). */
  leases: Record<string, number>;
  /** Start times (epoch ms) of the sends in the last minute, oldest first. */
  startsMs: number[];
}

export interface MailboxLimits {
  concurrency: number;
  perMinute: number;
}

export const WINDOW_MS = 60_000;

export type TakeResult =
  | { granted: true; next: MailboxBudget }
  | { granted: false; retryAfterMs: number; reason: 'concurrency' | 'rate' };

export function emptyBudget(): MailboxBudget {
  return { leases: {}, startsMs: [] };
}

/** Drops expired leases and starts older than the window. */
export function prune(budget: MailboxBudget, nowMs: number): MailboxBudget {
  const leases: Record<string, number> = {};
  for (const [id, expiresMs] of Object.entries(budget.leases)) if (expiresMs > nowMs) leases[id] = expiresMs;
  return { leases, startsMs: budget.startsMs.filter((t) => t > nowMs - WINDOW_MS) };
}

export function tryTake(
  budget: MailboxBudget,
  limits: MailboxLimits,
  nowMs: number,
  leaseId: string,
  leaseMs: number,
): TakeResult {
  const b = prune(budget, nowMs);
  const active = Object.values(b.leases);
  if (active.length >= limits.concurrency) {
    // Unknown when a running send ends; its lease expiry is only the upper bound. Ask again soon.
    return {
      granted: false,
      reason: 'concurrency',
      retryAfterMs: Math.max(1, Math.min(1000, Math.min(...active) - nowMs)),
    };
  }
  if (b.startsMs.length >= limits.perMinute) {
    const oldestInWindow = b.startsMs[b.startsMs.length - limits.perMinute] ?? nowMs;
    return { granted: false, reason: 'rate', retryAfterMs: Math.max(1, oldestInWindow + WINDOW_MS - nowMs) };
  }
  return {
    granted: true,
    next: { leases: { ...b.leases, [leaseId]: nowMs + leaseMs }, startsMs: [...b.startsMs, nowMs] },
  };
}

export function releaseLease(budget: MailboxBudget, leaseId: string, nowMs: number): MailboxBudget {
  const b = prune(budget, nowMs);
  const leases = { ...b.leases };
  delete leases[leaseId];
  return { leases, startsMs: b.startsMs };
}

/** Extends a lease still held; a lease that already expired is not revived (its slot may be taken). */
export function renewLease(
  budget: MailboxBudget,
  leaseId: string,
  nowMs: number,
  leaseMs: number,
): MailboxBudget {
  const b = prune(budget, nowMs);
  if (!(leaseId in b.leases)) return b;
  return { leases: { ...b.leases, [leaseId]: nowMs + leaseMs }, startsMs: b.startsMs };
}
